namespace FedMesh.Core.Http2;

/// <summary>
/// A header block that cannot be decoded (RFC 7541): to the connection a COMPRESSION_ERROR, for the decoder's dynamic
/// table can no longer be trusted to match the peer's.
/// </summary>
internal sealed class HPackException(string message) : Exception(message);

using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FedMesh.Core.Identity;

/// <summary>Reads and writes the URI entries of a subjectAltName extension (the BCL builder normalizes URIs, the reader has none).</summary>
internal static class SanUris
{
    public const string ExtensionOid = "2.5.29.17";
    private static readonly Asn1Tag UriTag = new(TagClass.ContextSpecific, 6);

    public static X509Extension Create(string uri, bool critical = false)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteCharacterString(UniversalTagNumber.IA5String, uri, UriTag);
        }
        return new X509Extension(ExtensionOid, writer.Encode(), critical);
    }

    public static List<string> Read(X509Certificate2 certificate)
    {
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value == ExtensionOid)
            {
                return Read(extension);
            }
        }
        return [];
    }

    public static List<string> Read(X509Extension extension)
    {
        var uris = new List<string>();
        try
        {
            var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER);
            var names = reader.ReadSequence();
            reader.ThrowIfNotEmpty();
            while (names.HasData)
            {
                var tag = names.PeekTag();
                if (tag.HasSameClassAndValue(UriTag))
                {
                    uris.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, UriTag));
                }
                else
                {
                    names.ReadEncodedValue();
                }
            }
        }
        catch (AsnContentException e)
        {
            throw new CryptographicException("the subjectAltName extension is malformed: " + e.Message, e);
        }
        return uris;
    }
}

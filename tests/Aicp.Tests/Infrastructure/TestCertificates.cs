using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Aicp.Tests.Infrastructure;

/// <summary>
/// A private CA and a hub certificate it signed (for 127.0.0.1 and localhost), made by the test with
/// <see cref="CertificateRequest"/>, written to a temporary folder that is deleted on dispose. Nothing is installed or
/// trusted system-wide: clients trust the CA through the SDK's certificate check.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    public const string PfxPassword = "test-password";

    private readonly DirectoryInfo _dir;

    private TestCertificates()
    {
        _dir = Directory.CreateTempSubdirectory("aicp-tls-");
        var now = DateTimeOffset.UtcNow;

        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=AICP Test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        Authority = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(7));

        using var hubKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var hubRequest = new CertificateRequest("CN=aicp-test-hub", hubKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        hubRequest.CertificateExtensions.Add(names.Build());
        hubRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        hubRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        hubRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false)); // server auth
        hubRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Authority, true, false));
        using var signed = hubRequest.Create(Authority, now.AddHours(-1), now.AddDays(2), RandomNumberGenerator.GetBytes(16));
        Hub = signed.CopyWithPrivateKey(hubKey);

        AuthorityPemPath = Write("ca.crt", Authority.ExportCertificatePem());
        HubCertPemPath = Write("hub.crt", Hub.ExportCertificatePem());
        HubKeyPemPath = Write("hub.key", hubKey.ExportPkcs8PrivateKeyPem());
        HubPfxPath = Path.Combine(_dir.FullName, "hub.pfx");
        File.WriteAllBytes(HubPfxPath, Hub.Export(X509ContentType.Pkcs12, PfxPassword));
    }

    /// <summary>The CA (public part): what clients are told to trust.</summary>
    public X509Certificate2 Authority { get; }

    /// <summary>The hub's certificate with its private key.</summary>
    public X509Certificate2 Hub { get; }

    public string AuthorityPemPath { get; }

    public string HubCertPemPath { get; }

    public string HubKeyPemPath { get; }

    public string HubPfxPath { get; }

    public static TestCertificates Create() => new();

    /// <summary>Kestrel settings that serve HTTPS with the hub certificate, from PEM files or a PFX file.</summary>
    public Dictionary<string, string?> KestrelSettings(bool pfx) => pfx
        ? new() { ["Kestrel:Certificates:Default:Path"] = HubPfxPath, ["Kestrel:Certificates:Default:Password"] = PfxPassword }
        : new() { ["Kestrel:Certificates:Default:Path"] = HubCertPemPath, ["Kestrel:Certificates:Default:KeyPath"] = HubKeyPemPath };

    public void Dispose()
    {
        Authority.Dispose();
        Hub.Dispose();
        _dir.Delete(recursive: true);
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir.FullName, name);
        File.WriteAllText(path, text);
        return path;
    }
}

using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Aicp.Agent.Sdk.Connection;

/// <summary>TLS certificate checks for <see cref="AicpConnectionOptions.RemoteCertificateValidationCallback"/>.</summary>
public static class HubCertificates
{
    /// <summary>
    /// Trusts what the operating system trusts and, in addition, certificates that chain to one of
    /// <paramref name="roots"/> (a private CA, or the hub's own self-signed certificate). The host name must still match
    /// the certificate, and a certificate outside its validity period is still refused.
    /// </summary>
    public static RemoteCertificateValidationCallback TrustRoots(params X509Certificate2[] roots)
    {
        ArgumentNullException.ThrowIfNull(roots);
        ArgumentOutOfRangeException.ThrowIfZero(roots.Length, nameof(roots));
        var trusted = new X509Certificate2Collection(roots);
        return (_, certificate, presented, errors) =>
        {
            if (errors == SslPolicyErrors.None)
            {
                return true;
            }

            if (errors != SslPolicyErrors.RemoteCertificateChainErrors || certificate is null)
            {
                return false; // no certificate, or a name mismatch: never acceptable
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck; // a private CA publishes no revocation list here
            if (presented is not null)
            {
                foreach (var element in presented.ChainElements)
                {
                    chain.ChainPolicy.ExtraStore.Add(element.Certificate); // intermediates the hub sent
                }
            }

            var leaf = certificate as X509Certificate2;
            var loaded = leaf is null ? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()) : null;
            try
            {
                return chain.Build(leaf ?? loaded!);
            }
            finally
            {
                loaded?.Dispose();
            }
        };
    }

    /// <summary>Reads a certificate from a PEM or DER file (the public part only), e.g. the CA given to a command line tool.</summary>
    public static X509Certificate2 LoadCertificate(string path) => X509CertificateLoader.LoadCertificateFromFile(path);
}

package io.knowngood.cli.node;

import io.knowngood.cli.CliFailure;
import io.knowngood.cli.ExitCode;
import io.knowngood.cli.LocalFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * {@code --ca FILE}: a TLS context that trusts exactly the CA certificates in one PEM file (the mesh
 * CA's {@code ca.crt}) for https admin URLs. The dialled address is still checked against the node's
 * certificate ({@code kgctl mesh cert issue --ip}).
 */
final class AdminCa {

    private AdminCa() {}

    /**
     * The label of the file's first PEM block ("PUBLIC KEY", "PRIVATE KEY"), to say what was given
     * instead of a certificate: the JDK's own message for it reads "Unable to initialize,
     * java.io.IOException: Too short".
     */
    private static Optional<String> pemLabel(Path file) {
        try {
            Matcher m = PEM_BEGIN.matcher(Files.readString(file, StandardCharsets.ISO_8859_1));
            return m.find() ? Optional.of(m.group(1)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static final Pattern PEM_BEGIN = Pattern.compile("-----BEGIN ([A-Z0-9 ]{1,40})-----");

    static SSLContext trusting(Path file) {
        Collection<? extends Certificate> certs;
        // else CertificateFactory wraps the JDK's "Is a directory" in its own exception
        LocalFile.file("--ca", file, "expected the mesh CA's ca.crt, from 'kgctl mesh ca init'");
        try (InputStream in = Files.newInputStream(file)) {
            certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
        } catch (NoSuchFileException e) {
            throw new CliFailure(ExitCode.IO, "--ca " + file + ": no such file (the mesh CA's ca.crt, from 'kgctl mesh ca init')");
        } catch (IOException e) {
            throw new CliFailure(ExitCode.IO, "--ca " + file + ": cannot read it: " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new CliFailure(ExitCode.IO, "--ca " + file + ": not a PEM certificate" + pemLabel(file)
                    .map(l -> " (it holds a PEM \"" + l + "\"; give the mesh CA's ca.crt, from 'kgctl mesh ca init')")
                    .orElse(" (expected the mesh CA's ca.crt, from 'kgctl mesh ca init')"));
        }
        if (certs.isEmpty()) {
            throw new CliFailure(ExitCode.IO, "--ca " + file + ": holds no certificate (expected the PEM of the mesh CA, ca.crt)");
        }
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            int i = 0;
            for (Certificate c : certs) {
                ks.setCertificateEntry("ca-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build a TLS context from " + file, e);
        }
    }
}

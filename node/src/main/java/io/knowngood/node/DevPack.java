package io.knowngood.node;

import io.knowngood.crypto.bundle.BundlePacker;
import io.knowngood.crypto.bundle.Ed25519Keys;
import io.knowngood.crypto.bundle.KeyId;
import io.knowngood.crypto.bundle.Limits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kgnode dev-pack}: generates a publisher key (if the key file does not exist yet) and packs
 * a directory into a signed bundle. For bin/demo and local trials only; {@code kgctl} is the real
 * tool. Exit codes: 0 packed, 1 refused or I/O error.
 */
@Command(name = "dev-pack", hidden = true, mixinStandardHelpOptions = true,
        description = "Demo helper: generate a key if missing, pack and sign a directory.")
final class DevPack implements Callable<Integer> {

    @Option(names = "--key", required = true, paramLabel = "FILE", description = "Private key (PKCS#8 PEM); created with FILE.pub if missing.")
    Path key;

    @Option(names = "--src", required = true, paramLabel = "DIR")
    Path src;

    @Option(names = "--name", required = true)
    String name;

    @Option(names = "--version", required = true, paramLabel = "N")
    long version;

    @Option(names = "--out", required = true, paramLabel = "FILE")
    Path out;

    @Override
    public Integer call() throws Exception {
        PrivateKey priv;
        if (Files.exists(key)) {
            priv = Ed25519Keys.readPrivatePem(key);
        } else {
            KeyPair pair = Ed25519Keys.generate();
            Ed25519Keys.writePrivatePem(pair.getPrivate(), key);
            Ed25519Keys.writePublicPem(pair.getPublic(), Path.of(key + ".pub"));
            priv = pair.getPrivate();
            System.out.println("generated key " + KeyId.of(pair.getPublic()).hex() + " (" + key + ", " + key + ".pub)");
        }
        BundlePacker.PackResult r = BundlePacker.pack(src, name, version, Map.of(), priv, Clock.systemUTC(), Limits.defaults());
        if (r instanceof BundlePacker.PackResult.Refused refused) {
            System.err.println("dev-pack: " + refused.reason());
            return 1;
        }
        Files.write(out, ((BundlePacker.PackResult.Packed) r).archive());
        System.out.println("packed " + name + "@" + version + " -> " + out);
        return 0;
    }
}

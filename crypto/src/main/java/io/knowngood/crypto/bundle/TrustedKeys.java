package io.knowngood.crypto.bundle;

import java.io.IOException;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;

/** The publisher keys a verifier accepts signatures from, indexed by {@link KeyId}. */
public final class TrustedKeys {
    private final Map<KeyId, Ed25519PublicKeyParameters> keys;

    private TrustedKeys(Map<KeyId, Ed25519PublicKeyParameters> keys) {
        this.keys = Map.copyOf(keys);
    }

    public static TrustedKeys of(Collection<PublicKey> publicKeys) {
        Map<KeyId, Ed25519PublicKeyParameters> m = new LinkedHashMap<>();
        for (PublicKey k : publicKeys) {
            m.put(KeyId.of(k), Ed25519Keys.publicParams(k));
        }
        return new TrustedKeys(m);
    }

    public static TrustedKeys fromPemFiles(List<Path> files) throws IOException {
        List<PublicKey> list = new ArrayList<>();
        for (Path f : files) {
            list.add(Ed25519Keys.readPublicPem(f));
        }
        return of(list);
    }

    public boolean contains(KeyId id) {
        return keys.containsKey(id);
    }

    public Set<KeyId> ids() {
        return keys.keySet();
    }

    public boolean isEmpty() {
        return keys.isEmpty();
    }

    Ed25519PublicKeyParameters get(KeyId id) {
        return keys.get(id);
    }
}

package io.knowngood.node.store;

import io.knowngood.crypto.bundle.BundleVerifier;
import io.knowngood.crypto.bundle.Rejection;
import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.crypto.bundle.VerifyResult;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.Optional;
import java.util.Set;

/**
 * Verifies the copies on disk again, at start ({@link #newestValid}) and periodically ({@link
 * #scrub}): a copy must be the exact bytes accepted (its recorded SHA-256) and still verify as the
 * name and version its file says. A damaged copy is reported and quarantined, which is the evidence
 * that lets the previous version be served ({@link ServePolicy}); a copy this configuration cannot
 * load (untrusted key, over the limits) is reported and left in place for a configuration that can.
 */
final class CopyCheck {
    /** Rejections that say "not loadable with this configuration", not "damaged": such copies stay in place. */
    private static final Set<String> CONFIG_REJECTIONS = Set.of("untrusted_key", "too_large", "too_many_files");

    /** Told about each damaged copy a scrub finds, at once, before the scrub reads the next one. */
    interface OnDamage {
        void found(String name, long version, Rejection problem);
    }

    private final BundleFiles files;
    private final BundleVerifier verifier;
    private final ServePolicy policy;
    private final ProblemLog problems;

    CopyCheck(BundleFiles files, BundleVerifier verifier, ServePolicy policy, ProblemLog problems) {
        this.files = files;
        this.verifier = verifier;
        this.policy = policy;
        this.problems = problems;
    }

    /** Tells the serve policy what earlier runs quarantined: damage found then still explains a missing version now. */
    void recallDamage() {
        for (BundleFiles.Quarantined q : files.quarantined()) {
            policy.damaged(q.name(), q.version());
        }
    }

    /**
     * At start: the newest copy of {@code name} that verifies, or empty. Each newer copy is
     * quarantined if damaged, or left in place if only this configuration cannot load it.
     */
    Optional<VerifiedBundle> newestValid(String name) throws IOException {
        files.removeLeftovers(name);
        for (long v : files.versions(name)) {
            Optional<VerifiedBundle> b = verifiedCopy(name, v);
            if (b.isPresent()) {
                return b;
            }
        }
        return Optional.empty();
    }

    /**
     * Version {@code v} of {@code name} read from disk and verified again (at start, and for an older
     * copy a rollout falls back to). A damaged copy is quarantined and reported; a copy only this
     * configuration cannot load is reported and left in place; missing: empty.
     */
    Optional<VerifiedBundle> verifiedCopy(String name, long v) {
        byte[] bytes;
        try {
            bytes = files.read(name, v);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            problems.record("damaged_copy", "unreadable copy of " + name + "@" + v + ": " + e.getMessage());
            quarantine(name, v);
            return Optional.empty();
        }
        Optional<Rejection> altered = files.alteredSinceAccepted(name, v, bytes);
        VerifyResult r = altered.isPresent() ? new VerifyResult.Rejected(altered.get()) : verifier.verifyHandedOverAs(name, bytes);
        if (r instanceof VerifyResult.Verified ok && ok.bundle().version() == v) {
            files.writeSidecarIfMissing(name, v, bytes);
            files.verified(name, v, ok.bundle().manifestDigest());
            return Optional.of(ok.bundle());
        }
        Rejection why = r instanceof VerifyResult.Rejected rej ? rej.reason()
                : new Rejection.InvalidManifest("version", "file name says " + v);
        if (CONFIG_REJECTIONS.contains(why.code())) {
            problems.record("unloadable_copy", name + "@" + v + " cannot be loaded with this configuration: " + why.code());
            policy.unloadable(name, v);
        } else {
            problems.record("damaged_copy", "damaged copy of " + name + "@" + v + " on disk: " + why.code() + " (falling back)");
            quarantine(name, v);
        }
        return Optional.empty();
    }

    /**
     * Re-reads and re-verifies every copy on disk; each damaged one goes to {@code onDamage} (copies
     * this configuration cannot load are skipped). Returns the number of damaged copies found.
     */
    int scrub(OnDamage onDamage) {
        int damaged = 0;
        for (String name : files.names()) {
            for (long v : files.versions(name)) {
                Optional<Rejection> problem;
                try {
                    byte[] bytes = files.read(name, v);
                    problem = files.alteredSinceAccepted(name, v, bytes).or(() -> check(name, v, bytes));
                } catch (NoSuchFileException e) {
                    continue;
                } catch (IOException e) {
                    problem = Optional.of(new Rejection.MalformedArchive("unreadable: " + e.getMessage()));
                }
                if (problem.isEmpty() || CONFIG_REJECTIONS.contains(problem.get().code())) {
                    continue;
                }
                damaged++;
                onDamage.found(name, v, problem.get());
            }
        }
        return damaged;
    }

    /** Moves a damaged copy to quarantine/ and tells the serve policy. */
    void quarantine(String name, long version) {
        policy.damaged(name, version);
        files.quarantine(name, version);
    }

    private Optional<Rejection> check(String name, long version, byte[] bytes) {
        VerifyResult r = verifier.verifyAs(name, bytes);
        if (r instanceof VerifyResult.Rejected rej) {
            return Optional.of(rej.reason());
        }
        VerifiedBundle b = ((VerifyResult.Verified) r).bundle();
        if (b.version() != version) {
            return Optional.of(new Rejection.InvalidManifest("version", "file name says " + version + ", manifest " + b.version()));
        }
        files.verified(name, version, b.manifestDigest());
        return Optional.empty();
    }
}

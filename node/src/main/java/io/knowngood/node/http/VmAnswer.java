package io.knowngood.node.http;

import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.node.rollout.Choice;
import io.knowngood.node.rollout.Rollouts;
import io.knowngood.node.store.BundleStore;
import java.util.Optional;
import java.util.Set;

/**
 * What this node gives a VM in some pools for one name: the one decision the VM endpoint serves by
 * and {@code GET /v1/explain} reports, so the two cannot disagree. A hidden name is its own outcome
 * here; the VM endpoint answers it exactly like {@link NoSuchBundle}.
 */
sealed interface VmAnswer {

    /** A version is served (not retired), with its rollout state. */
    record Served(Choice choice) implements VmAnswer {}

    /** This node holds no copy of the name (and none is withheld below its floor). */
    record NoSuchBundle() implements VmAnswer {}

    /** The newest version held is for other pools than the VM's. */
    record Hidden(long newest) implements VmAnswer {}

    /** Every version held that the VM could get was reverted by its rollout. */
    record AllReverted(long latest) implements VmAnswer {}

    /** The copy held is below the rollback floor and withheld until a peer supplies a newer one. */
    record Withheld(long floor) implements VmAnswer {}

    /** The version chosen is a tombstone: the name was withdrawn. */
    record Retired(long version) implements VmAnswer {}

    static VmAnswer of(BundleStore store, Rollouts rollouts, String name, Set<String> vmPools) {
        Optional<VerifiedBundle> current = store.current(name);
        if (current.isPresent() && !rollouts.visible(name, vmPools)) {
            return new Hidden(current.get().version());
        }
        Optional<Choice> choice = rollouts.choose(name, vmPools);
        Optional<VerifiedBundle> held = choice.map(Choice::bundle);
        if (choice.isPresent() && held.isEmpty()) {
            return new AllReverted(choice.get().latest());
        }
        if (held.isEmpty() && store.withheld(name)) {
            return new Withheld(store.floor(name).orElse(0));
        }
        if (held.isEmpty()) {
            return new NoSuchBundle();
        }
        if (held.get().retired()) {
            return new Retired(held.get().version());
        }
        return new Served(choice.get());
    }
}

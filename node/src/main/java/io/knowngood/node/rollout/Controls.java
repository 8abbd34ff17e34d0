package io.knowngood.node.rollout;

import io.knowngood.crypto.rollout.ControlCheck;
import io.knowngood.crypto.rollout.RolloutControl;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The verified operator controls known for one version: an abort and a promote are final; of pause
 * and resume the one issued last is in effect (ties: pause). Immutable.
 */
record Controls(ControlCheck.Valid abort, ControlCheck.Valid promote, ControlCheck.Valid pauseOrResume) {

    static final Controls NONE = new Controls(null, null, null);

    Controls with(ControlCheck.Valid c) {
        switch (c.control().action()) {
            case ABORT:
                return abort != null && !c.control().issued().isBefore(abort.control().issued()) ? this : new Controls(c, promote, pauseOrResume);
            case PROMOTE:
                return promote != null && !c.control().issued().isBefore(promote.control().issued()) ? this : new Controls(abort, c, pauseOrResume);
            default:
                if (pauseOrResume != null) {
                    int cmp = c.control().issued().compareTo(pauseOrResume.control().issued());
                    boolean later = cmp > 0 || (cmp == 0 && c.control().action() == RolloutControl.Action.PAUSE
                            && pauseOrResume.control().action() != RolloutControl.Action.PAUSE);
                    if (!later) {
                        return this;
                    }
                }
                return new Controls(abort, promote, c);
        }
    }

    boolean paused() {
        return pauseOrResume != null && pauseOrResume.control().action() == RolloutControl.Action.PAUSE;
    }

    /** The signed documents, base64, for this member's record (so they outlive the member that received them). */
    List<String> wires() {
        List<String> out = new ArrayList<>();
        for (ControlCheck.Valid v : new ControlCheck.Valid[] {abort, promote, pauseOrResume}) {
            if (v != null) {
                out.add(Base64.getEncoder().encodeToString(v.wire()));
            }
        }
        return out;
    }
}

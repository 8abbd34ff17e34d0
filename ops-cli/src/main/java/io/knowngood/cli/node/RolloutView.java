package io.knowngood.cli.node;

import io.knowngood.api.RolloutList;
import java.util.List;

/**
 * One version's rollout as kgctl prints it (rollout status, status, the rollout controls). Waves
 * are counted from 1 as in the policy file; the last one is the implied all-hosts wave.
 */
public record RolloutView(String name, long version, String state, int wave, int waves, boolean paused, int ok, int failed,
                          String since, String reason, int promoteOk, long promoteAfterSeconds, int revertFailed,
                          Long servedHere, Boolean expired, List<Host> hosts) {

    public RolloutView {
        hosts = List.copyOf(hosts);
    }

    /** One host: the first wave that includes it (from 1), its VMs' distinct ok/failed reports, the version it serves. */
    public record Host(String host, int wave, int ok, int failed, Long serving) {
    }

    static RolloutView of(RolloutList.Rollout r) {
        List<Host> hosts = r.hosts().stream().map(h -> new Host(h.host(), h.wave() + 1, h.ok(), h.failed(), h.serving())).toList();
        return new RolloutView(r.name(), r.version(), r.state(), r.wave() + 1, r.waves(), r.paused(), r.ok(), r.failed(),
                r.since() == null ? null : r.since().toString(), r.reason(), r.promoteOk(), r.promoteAfterSeconds(),
                r.revertFailed(), r.servedHere(), r.expired(), hosts);
    }

    /** {@code 2/3}: the wave reached of how many. */
    String waveOf() {
        return wave + "/" + waves;
    }

    /** One line: {@code rolling, wave 2/3, paused, 4 ok, 0 failed, since ...: reason}. */
    String line() {
        return state + ", wave " + waveOf() + (paused ? ", PAUSED" : "") + ", " + ok + " ok, " + failed + " failed"
                + (since == null ? "" : ", since " + since) + (reason == null || reason.isBlank() ? "" : ": " + reason);
    }

    /** The versions table: one row per version. */
    static Table table(boolean withName) {
        return withName ? new Table("NAME", "VERSION", "STATE", "WAVE", "PAUSED", "OK", "FAILED", "SINCE", "REASON")
                : new Table("VERSION", "STATE", "WAVE", "PAUSED", "OK", "FAILED", "SINCE", "REASON");
    }

    void row(Table t, boolean withName) {
        String[] cells = {Long.toString(version), state, waveOf(), paused ? "yes" : "no", Integer.toString(ok),
                Integer.toString(failed), since, reason == null || reason.isBlank() ? "-" : reason};
        if (withName) {
            String[] named = new String[cells.length + 1];
            named[0] = name;
            System.arraycopy(cells, 0, named, 1, cells.length);
            t.row(named);
        } else {
            t.row(cells);
        }
    }
}

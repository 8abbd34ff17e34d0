package io.knowngood.chaos;

import java.util.List;

/** Flags every chaos node gets beyond the SPEC.md basics: the local-testing mesh settings. */
final class NodeFlags {
    private NodeFlags() {
    }

    static List<String> extra() {
        return List.of();
    }
}

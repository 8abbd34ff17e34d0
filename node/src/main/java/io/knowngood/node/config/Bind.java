package io.knowngood.node.config;

import java.util.ArrayList;
import java.util.List;

/** One address the node binds, with the setting that names it, for checks that report by setting. */
record Bind(String setting, IpEndpoint endpoint) {

    /** Every vm-bind, then admin-bind, then cluster-bind (left out for a standalone node, which binds no mesh). */
    static List<Bind> all(List<IpEndpoint> vmBind, IpEndpoint adminBind, IpEndpoint clusterBind, boolean withCluster) {
        List<Bind> all = new ArrayList<>();
        vmBind.forEach(e -> all.add(new Bind("vm-bind", e)));
        all.add(new Bind("admin-bind", adminBind));
        if (withCluster) {
            all.add(new Bind("cluster-bind", clusterBind));
        }
        return all;
    }
}

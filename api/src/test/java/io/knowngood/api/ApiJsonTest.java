package io.knowngood.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The wire format, pinned: each body encodes to exactly the JSON the node sent before the contract
 * became records (field names, order, absent fields left out, "never", ISO instants), and reads back.
 */
class ApiJsonTest {

    private static final String D = "a0b8f60d3e2b65fe1a5a4ce3f658b285e5347ea806227679d66ad3ac2dd46f32";

    private static String wire(Object body) {
        return new String(ApiJson.encode(body), StandardCharsets.UTF_8);
    }

    private static <T> T read(String json, Class<T> type) {
        ApiJson.Decoded<T> d = ApiJson.decode(json.getBytes(StandardCharsets.UTF_8), type);
        assertThat(d).isInstanceOf(ApiJson.Decoded.Body.class);
        return ((ApiJson.Decoded.Body<T>) d).value();
    }

    private static void roundTrips(Object body, String json) {
        assertThat(wire(body)).isEqualTo(json + "\n");
        assertThat(read(json, body.getClass())).isEqualTo(body);
    }

    @Test
    void published_201() {
        roundTrips(new Published("app", 3, D, 1, 1, true),
                "{\"name\":\"app\",\"version\":3,\"digest\":\"" + D + "\",\"membersHolding\":1,\"membersInView\":1,\"complete\":true}");
    }

    @Test
    void errors_plainAndRollback() {
        roundTrips(ErrorBody.of(ErrorCode.ALREADY_HELD, "app@3 is already held (same content); not newer"),
                "{\"error\":\"already_held\",\"detail\":\"app@3 is already held (same content); not newer\"}");
        roundTrips(ErrorBody.rollback("app version 2 is not newer than 3, the highest ever accepted", 3, 2),
                "{\"error\":\"rollback\",\"detail\":\"app version 2 is not newer than 3, the highest ever accepted\",\"current\":3,\"offered\":2}");
    }

    @Test
    void clusterView_withoutCoordinator_leavesItOut_andSaysNever() {
        ClusterView.Member m = new ClusterView.Member("n1", "127.0.0.1:7800", true,
                Map.of("z", new ClusterView.Held(2, "bb"), "app", new ClusterView.Held(3, D)));
        roundTrips(new ClusterView("n1", "ALONE", "n1", false, false, "never", List.of(m)),
                "{\"self\":\"n1\",\"state\":\"ALONE\",\"coordinator\":\"n1\",\"partitioned\":false,\"inTouch\":false,"
                        + "\"lastContact\":\"never\",\"members\":[{\"id\":\"n1\",\"address\":\"127.0.0.1:7800\",\"self\":true,"
                        + "\"bundles\":{\"app\":{\"version\":3,\"manifestDigest\":\"" + D + "\"},\"z\":{\"version\":2,\"manifestDigest\":\"bb\"}}}],"
                        + "\"expired\":[]}");
        assertThat(wire(new ClusterView("n1", "STARTING", null, false, false, null, List.of())))
                .isEqualTo("{\"self\":\"n1\",\"state\":\"STARTING\",\"partitioned\":false,\"inTouch\":false,\"lastContact\":\"never\",\"members\":[],"
                        + "\"expired\":[]}\n");
    }

    @Test
    void clusterView_aSilentMember_saysSo_othersReadAsBefore() {
        ClusterView v = new ClusterView("n1", "PARTITIONED", "n2", true, false, "never", List.of(
                new ClusterView.Member("n1", "10.0.0.1:7800", true, Map.of()),
                new ClusterView.Member("n2", "10.0.0.2:7800", false, Map.of(), true)));
        roundTrips(v, "{\"self\":\"n1\",\"state\":\"PARTITIONED\",\"coordinator\":\"n2\",\"partitioned\":true,\"inTouch\":false,"
                + "\"lastContact\":\"never\",\"members\":[{\"id\":\"n1\",\"address\":\"10.0.0.1:7800\",\"self\":true,\"bundles\":{}},"
                + "{\"id\":\"n2\",\"address\":\"10.0.0.2:7800\",\"self\":false,\"bundles\":{},\"silent\":true}],\"expired\":[]}");
    }

    @Test
    void clusterView_withSites_listsEachWithOnlineLastContact_andBackupsHeldOffline() {
        ClusterView v = new ClusterView("e1", "CLUSTERED", "e1", false, true, "never", List.of(), List.of(), "east",
                List.of(new ClusterView.Site("west", true, "2026-12-01T18:00:00Z"), new ClusterView.Site("dr", false, null)));
        roundTrips(v, "{\"self\":\"e1\",\"state\":\"CLUSTERED\",\"coordinator\":\"e1\",\"partitioned\":false,\"inTouch\":true,"
                + "\"lastContact\":\"never\",\"members\":[],\"expired\":[],\"site\":\"east\",\"sites\":[{\"name\":\"west\",\"online\":true,"
                + "\"lastContact\":\"2026-12-01T18:00:00Z\"},{\"name\":\"dr\",\"online\":false,\"lastContact\":\"never\"}]}");
        ClusterView held = new ClusterView("e1", "CLUSTERED", "e1", false, true, "never", List.of(), List.of(), "east",
                List.of(new ClusterView.Site("west", true, "2026-12-01T18:00:00Z", List.of("bundles", "records"))));
        roundTrips(held, "{\"self\":\"e1\",\"state\":\"CLUSTERED\",\"coordinator\":\"e1\",\"partitioned\":false,\"inTouch\":true,"
                + "\"lastContact\":\"never\",\"members\":[],\"expired\":[],\"site\":\"east\",\"sites\":[{\"name\":\"west\",\"online\":true,"
                + "\"lastContact\":\"2026-12-01T18:00:00Z\",\"offlineBackups\":[\"bundles\",\"records\"]}]}");
    }

    @Test
    void clusterView_withMeshTls_saysWhichRevocationListIsInForce_andWhyAFileIsNotUsed() {
        ClusterView v = new ClusterView("n1", "ALONE", "n1", false, false, "never", List.of(), List.of(), null, List.of(),
                new ClusterView.RevocationList(2, 1, "2026-12-06T11:35:50Z", null));
        roundTrips(v, "{\"self\":\"n1\",\"state\":\"ALONE\",\"coordinator\":\"n1\",\"partitioned\":false,\"inTouch\":false,"
                + "\"lastContact\":\"never\",\"members\":[],\"expired\":[],\"revocationList\":{\"number\":2,\"revoked\":1,"
                + "\"thisUpdate\":\"2026-12-06T11:35:50Z\"}}");
        ClusterView unused = new ClusterView("n1", "ALONE", "n1", false, false, "never", List.of(), List.of(), null, List.of(),
                new ClusterView.RevocationList(0, 0, null, "it is not a list signed by this mesh's CA"));
        assertThat(new String(ApiJson.encode(unused), java.nio.charset.StandardCharsets.UTF_8))
                .contains("\"revocationList\":{\"number\":0,\"revoked\":0,\"problem\":\"it is not a list signed by this mesh's CA\"}");
    }

    @Test
    void adminHealth_instantAsIsoString() {
        ClusterView c = new ClusterView("n1", "ALONE", "n1", false, false, "never", List.of());
        roundTrips(new AdminHealth(true, 1, 0, List.of(new BehindFloor("b", 1, 2, false)), List.of("p"), c,
                        Instant.parse("2026-12-01T06:32:28.108701332Z")),
                "{\"serving\":true,\"bundles\":1,\"storeErrors\":0,\"behindFloor\":[{\"name\":\"b\",\"held\":1,\"floor\":2,\"serving\":false}],"
                        + "\"recentProblems\":[\"p\"],\"cluster\":{\"self\":\"n1\",\"state\":\"ALONE\",\"coordinator\":\"n1\","
                        + "\"partitioned\":false,\"inTouch\":false,\"lastContact\":\"never\",\"members\":[],\"expired\":[]},\"time\":\"2026-12-01T06:32:28.108701332Z\","
                        + "\"pools\":{}}");
    }

    @Test
    void adminHealth_poolsSortedByName_andAbsentFromAnOlderNodeIsEmpty() {
        ClusterView c = new ClusterView("n1", "ALONE", "n1", false, false, "never", List.of());
        Instant t = Instant.parse("2026-12-01T06:32:28Z");
        AdminHealth h = new AdminHealth(true, 0, 0, List.of(), List.of(), c, t,
                java.util.Map.of("kiosk", List.of("192.168.20.0/24"), "finance", List.of("192.168.10.0/24", "fd00:10::/64")));
        assertThat(new String(ApiJson.encode(h), java.nio.charset.StandardCharsets.UTF_8).trim())
                .endsWith("\"pools\":{\"finance\":[\"192.168.10.0/24\",\"fd00:10::/64\"],\"kiosk\":[\"192.168.20.0/24\"]}}");
        byte[] older = ApiJson.encode(new AdminHealth(true, 0, 0, List.of(), List.of(), c, t));
        String withoutPools = new String(older, java.nio.charset.StandardCharsets.UTF_8).replace(",\"pools\":{}", "");
        ApiJson.Decoded<AdminHealth> d = ApiJson.decode(withoutPools.getBytes(java.nio.charset.StandardCharsets.UTF_8), AdminHealth.class);
        assertThat(d).isInstanceOf(ApiJson.Decoded.Body.class);
        assertThat(((ApiJson.Decoded.Body<AdminHealth>) d).value().pools()).isEmpty();
    }

    @Test
    void meshBundleList_heldHereAndMembersOnly() {
        MeshBundleList list = new MeshBundleList(List.of(
                MeshBundleList.Entry.held("app", 3, D, false, false, Instant.parse("2026-11-25T10:00:00Z"), 3L, Map.of("n1", 3L)),
                MeshBundleList.Entry.membersOnly("far", null, Map.of("n2", 4L, "n1", 0L))));
        roundTrips(list, "{\"bundles\":[{\"name\":\"app\",\"version\":3,\"digest\":\"" + D + "\",\"retired\":false,\"withheld\":false,"
                + "\"created\":\"2026-11-25T10:00:00Z\",\"floor\":3,\"members\":{\"n1\":3}},"
                + "{\"name\":\"far\",\"members\":{\"n1\":0,\"n2\":4}}]}");
        assertThat(list.get("far").orElseThrow().heldHere()).isFalse();
        assertThat(list.get("far").orElseThrow().highest()).isEqualTo(4);
        assertThat(list.get("app").orElseThrow().highest()).isEqualTo(3);
    }

    @Test
    void history_digestLeftOutUntilVerified() {
        roundTrips(new BundleHistory("app", 3L, List.of(
                        new BundleHistory.Version(3, "current", D, 5120, Instant.parse("2026-12-01T06:32:27.914274335Z")),
                        new BundleHistory.Version(2, "unverified", null, 5120, Instant.parse("2026-12-01T06:32:27Z")))),
                "{\"name\":\"app\",\"floor\":3,\"versions\":[{\"version\":3,\"state\":\"current\",\"digest\":\"" + D + "\",\"size\":5120,"
                        + "\"storedAt\":\"2026-12-01T06:32:27.914274335Z\"},{\"version\":2,\"state\":\"unverified\",\"size\":5120,"
                        + "\"storedAt\":\"2026-12-01T06:32:27Z\"}]}");
    }

    @Test
    void vmBodies() {
        roundTrips(new VmBundleList(List.of(new VmBundleList.Entry("app", 3))), "{\"bundles\":[{\"name\":\"app\",\"version\":3}]}");
        roundTrips(new VmHealth(true, "n1", 1, new VmHealth.Cluster("ALONE", 1, false, true, false, "never"),
                        new VmHealth.Store(0, List.of())),
                "{\"serving\":true,\"node\":\"n1\",\"bundles\":1,\"cluster\":{\"state\":\"ALONE\",\"members\":1,\"partitioned\":false,"
                        + "\"alone\":true,\"inTouch\":false,\"lastContact\":\"never\"},\"store\":{\"errors\":0,\"behindFloor\":[]},\"expired\":[]}");
        assertThat(read("{\"serving\":true,\"node\":\"n1\",\"bundles\":1,\"cluster\":{\"state\":\"ALONE\"},\"store\":{\"errors\":0}}",
                VmHealth.class).expired()).as("an older node's health: no expiry list").isEmpty();
    }

    @Test
    void rolloutBodies() {
        roundTrips(new VmReport("app", 3L, "failed", "printer service did not start"),
                "{\"name\":\"app\",\"version\":3,\"result\":\"failed\",\"detail\":\"printer service did not start\"}");
        roundTrips(new VmReport.Accepted("app", 3, "ok", "rolling"), "{\"name\":\"app\",\"version\":3,\"result\":\"ok\",\"state\":\"rolling\"}");
        RolloutList.Rollout r = new RolloutList.Rollout("app", 3, "reverted", 0, 2, Instant.parse("2026-12-01T10:00:00Z"),
                "2 VMs reported failed (revert_failed 2)", false, 3, 300, 2, 0, 2,
                List.of(new RolloutList.Host("n1", 0, 0, 2, 2L)), 2L, false);
        roundTrips(new RolloutList("n1", List.of(r)), "{\"node\":\"n1\",\"rollouts\":[{\"name\":\"app\",\"version\":3,\"state\":\"reverted\","
                + "\"wave\":0,\"waves\":2,\"since\":\"2026-12-01T10:00:00Z\",\"reason\":\"2 VMs reported failed (revert_failed 2)\","
                + "\"paused\":false,\"promoteOk\":3,\"promoteAfterSeconds\":300,\"revertFailed\":2,\"ok\":0,\"failed\":2,"
                + "\"hosts\":[{\"host\":\"n1\",\"wave\":0,\"ok\":0,\"failed\":2,\"serving\":2}],\"servedHere\":2,\"expired\":false}]}");
    }

    @Test
    void reading_ignoresFieldsANewerNodeAdds() {
        Published p = read("{\"name\":\"a\",\"version\":2,\"rollout\":{\"stage\":1},\"digest\":\"d\",\"membersHolding\":2,"
                + "\"membersInView\":3,\"complete\":false,\"sites\":[\"x\"]}", Published.class);

        assertThat(p).isEqualTo(new Published("a", 2, "d", 2, 3, false));
    }

    @Test
    void reading_notJson_orMissingARequiredField_isMalformed_notAnException() {
        assertThat(ApiJson.decode("<html>502</html>".getBytes(StandardCharsets.UTF_8), ErrorBody.class))
                .isInstanceOf(ApiJson.Decoded.Malformed.class);
        assertThat(ApiJson.decode(new byte[0], ErrorBody.class)).isInstanceOf(ApiJson.Decoded.Malformed.class);
        assertThat(ApiJson.decode("{\"detail\":\"no code\"}".getBytes(StandardCharsets.UTF_8), ErrorBody.class))
                .isInstanceOf(ApiJson.Decoded.Malformed.class);
        assertThat(ApiJson.decode("{\"self\":\"n\",\"members\":[],\"x\":1}".getBytes(StandardCharsets.UTF_8), AdminHealth.class))
                .isInstanceOf(ApiJson.Decoded.Malformed.class);
        assertThat(ApiJson.decode("{\"name\":\"a\",\"floor\":1,\"versions\":[{\"version\":1,\"storedAt\":\"yesterday\"}]}"
                .getBytes(StandardCharsets.UTF_8), BundleHistory.class)).isInstanceOf(ApiJson.Decoded.Malformed.class);
    }

    @Test
    void errorCodes_wireIsTheLowerCaseName_unknownCodesSurviveReading() {
        assertThat(ErrorCode.STORE_UNAVAILABLE.wire()).isEqualTo("store_unavailable");
        assertThat(ErrorCode.fromWire("hash_mismatch")).contains(ErrorCode.HASH_MISMATCH);
        ErrorBody future = read("{\"error\":\"quota_exceeded\",\"detail\":\"x\"}", ErrorBody.class);
        assertThat(future.code()).isEmpty();
        assertThat(future.line()).isEqualTo("quota_exceeded: x");
        assertThat(read("{\"error\":\"retired\"}", ErrorBody.class).line()).isEqualTo("retired");
    }

    @Test
    void lastContact_formatsAndParses() {
        assertThat(LastContact.format(java.util.Optional.empty())).isEqualTo("never");
        assertThat(LastContact.parse("2026-11-25T10:00:00Z")).contains(Instant.parse("2026-11-25T10:00:00Z"));
        assertThat(LastContact.parse("never")).isEmpty();
    }
}

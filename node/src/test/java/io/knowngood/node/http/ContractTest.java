package io.knowngood.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.api.AdminHealth;
import io.knowngood.api.ApiJson;
import io.knowngood.api.BundleHistory;
import io.knowngood.api.ClusterView;
import io.knowngood.api.ErrorBody;
import io.knowngood.api.ErrorCode;
import io.knowngood.api.MeshBundleList;
import io.knowngood.api.Published;
import io.knowngood.api.VmBundleList;
import io.knowngood.api.VmHealth;
import io.knowngood.crypto.bundle.Rejection;
import io.knowngood.node.TestBundles;
import io.knowngood.node.TestNode;
import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node speaks exactly the api module's contract: every JSON body it sends reads into its record
 * and writes back to the same JSON (so no field is sent that the records do not know, and none is
 * lost), and every error code it can send, each verifier rejection's included, is an ErrorCode.
 */
class ContractTest {

    static final ObjectMapper TREE = new ObjectMapper();
    static final TestBundles BUNDLES = new TestBundles();
    static TestNode node;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        node = TestNode.start(dir, BUNDLES.writePublicKey(dir));
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    /** Decodes {@code body} as {@code type}, asserts it re-encodes to the same JSON, and returns it. */
    private static <T> T contract(String body, Class<T> type) throws Exception {
        ApiJson.Decoded<T> d = ApiJson.decode(body.getBytes(StandardCharsets.UTF_8), type);
        assertThat(d).as(body).isInstanceOf(ApiJson.Decoded.Body.class);
        T value = ((ApiJson.Decoded.Body<T>) d).value();
        assertThat(TREE.readTree(ApiJson.encode(value))).as(type.getSimpleName()).isEqualTo(TREE.readTree(body));
        return value;
    }

    private static String vm(String path) throws Exception {
        return new String(node.get(node.vm(path)).body(), StandardCharsets.UTF_8);
    }

    @Test
    void everyBodyTheNodeSends_isOneOfTheApiRecords() throws Exception {
        HttpResponse<String> created = node.publish("app", BUNDLES.bundle("app", 3, "v3"));
        assertThat(contract(created.body(), Published.class).version()).isEqualTo(3);
        ErrorBody rollback = contract(node.publish("app", BUNDLES.bundle("app", 2, "v2")).body(), ErrorBody.class);
        assertThat(rollback.code()).contains(ErrorCode.ROLLBACK);
        assertThat(rollback.current()).isEqualTo(3);
        assertThat(rollback.offered()).isEqualTo(2);
        assertThat(contract(node.publish("app", BUNDLES.bundle("app", 3, "v3")).body(), ErrorBody.class).code())
                .contains(ErrorCode.ALREADY_HELD);
        assertThat(contract(node.publish("app", TestBundles.untrusted("app", 9)).body(), ErrorBody.class).code())
                .contains(ErrorCode.UNTRUSTED_KEY);
        node.publish("gone", BUNDLES.bundle("gone", 1, "x"));
        node.publish("gone", BUNDLES.retired("gone", 2));

        ClusterView cluster = contract(node.adminGet("/v1/cluster").body(), ClusterView.class);
        assertThat(cluster.members().get(0).bundles()).containsKeys("app", "gone");
        assertThat(contract(node.adminGet("/v1/health").body(), AdminHealth.class).serving()).isTrue();
        MeshBundleList mesh = contract(node.adminGet("/v1/bundles").body(), MeshBundleList.class);
        assertThat(mesh.get("gone").orElseThrow().retiredHere()).isTrue();
        assertThat(mesh.get("app").orElseThrow().highest()).isEqualTo(3);
        assertThat(contract(node.adminGet("/v1/bundles/app/history").body(), BundleHistory.class).floor()).isEqualTo(3);
        assertThat(contract(node.adminGet("/v1/bundles/nope/history").body(), ErrorBody.class).code()).contains(ErrorCode.NO_SUCH_BUNDLE);
        assertThat(contract(node.adminGet("/v1/nope").body(), ErrorBody.class).code()).contains(ErrorCode.NOT_FOUND);
        assertThat(contract(node.adminGet("/v1/explain/app?vm=127.0.0.9").body(), io.knowngood.api.Explain.class).vm().version()).isEqualTo(3);
        assertThat(contract(node.adminGet("/v1/explain/app?vm=nope").body(), ErrorBody.class).code()).contains(ErrorCode.BAD_QUERY);

        assertThat(contract(vm("/v1/bundles"), VmBundleList.class).bundles()).containsExactly(new VmBundleList.Entry("app", 3));
        assertThat(contract(vm("/v1/health"), VmHealth.class).node()).isEqualTo("test-node");
        assertThat(contract(vm("/v1/bundles/gone"), ErrorBody.class).code()).contains(ErrorCode.RETIRED);
        assertThat(contract(vm("/v1/bundles/%2e%2e"), ErrorBody.class).code()).contains(ErrorCode.BAD_PATH);
        assertThat(contract(vm("/v1/bundles/app?wait=x"), ErrorBody.class).code()).contains(ErrorCode.BAD_QUERY);
    }

    @Test
    void everyRejectionCode_isAnErrorCode() throws Exception {
        Set<String> missing = new TreeSet<>();
        List<String> seen = new ArrayList<>();
        for (Class<?> variant : Rejection.class.getPermittedSubclasses()) {
            Rejection r = instance(variant);
            seen.add(r.code());
            if (ErrorCode.fromWire(r.code()).isEmpty()) {
                missing.add(r.code());
            } else {
                assertThat(JsonResponses.codeOf(r).wire()).isEqualTo(r.code());
            }
        }
        assertThat(missing).as("Rejection codes missing from api's ErrorCode").isEmpty();
        assertThat(seen).contains("hash_mismatch", "bad_signature", "rollback", "too_large");
    }

    /** A Rejection variant built with placeholder values (only its code matters here). */
    private static Rejection instance(Class<?> variant) throws Exception {
        RecordComponent[] parts = variant.getRecordComponents();
        Class<?>[] types = new Class<?>[parts.length];
        Object[] args = new Object[parts.length];
        for (int i = 0; i < parts.length; i++) {
            types[i] = parts[i].getType();
            args[i] = types[i] == String.class ? "x" : types[i] == long.class ? 1L : types[i] == int.class ? 1
                    : types[i] == List.class ? List.of() : null;
        }
        Constructor<?> c = variant.getDeclaredConstructor(types);
        return (Rejection) c.newInstance(args);
    }
}

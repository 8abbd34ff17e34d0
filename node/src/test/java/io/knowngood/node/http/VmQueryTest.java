package io.knowngood.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code ?wait=S&after=V} as the VM endpoint reads it: 1 to 18 ASCII digits, each at most once, wait capped, others ignored. */
class VmQueryTest {

    private static final Duration CAP = Duration.ofSeconds(300);

    @Test
    void waitAndAfter_areRead_andWaitIsCapped() {
        VmEndpoint.Query q = VmEndpoint.Query.parse("wait=30&after=7", CAP);
        assertThat(q.problem()).isEmpty();
        assertThat(q.waitFor()).contains(Duration.ofSeconds(30));
        assertThat(q.after()).hasValue(7);
        assertThat(VmEndpoint.Query.parse("wait=999999999999999999", CAP).waitFor()).contains(CAP);
    }

    @Test
    void eighteenDigits_areTheMost() {
        assertThat(VmEndpoint.Query.parse("after=999999999999999999", CAP).after()).hasValue(999_999_999_999_999_999L);
        assertThat(VmEndpoint.Query.parse("after=0000000000000000001", CAP).problem()).contains("after must be a non-negative integer");
    }

    @ParameterizedTest
    @ValueSource(strings = {"wait=", "wait=x", "wait=-1", "wait=+5", "wait=1.5", "wait= 5", "wait=5 ", "wait=\u0665", "after=1e3", "after=0x10"})
    void anythingButAsciiDigits_isAProblem_namingTheParameter(String query) {
        VmEndpoint.Query q = VmEndpoint.Query.parse(query, CAP);
        String k = query.substring(0, query.indexOf('='));
        assertThat(q.problem()).contains(k + " must be a non-negative integer");
    }

    @ParameterizedTest
    @ValueSource(strings = {"wait=1&wait=2", "wait=5&after=1&wait=5", "after=1&after=2", "after=3&wait=1&after=3"})
    void aParameterGivenTwice_isAProblem_evenWithTheSameValue(String query) {
        String k = query.startsWith("wait") ? "wait" : "after";
        assertThat(VmEndpoint.Query.parse(query, CAP).problem()).contains(k + " given more than once");
    }

    @Test
    void otherParameters_andNoQuery_areIgnored() {
        assertThat(VmEndpoint.Query.parse("x=abc&wait=5", CAP).waitFor()).contains(Duration.ofSeconds(5));
        assertThat(VmEndpoint.Query.parse(null, CAP).problem()).isEmpty();
        assertThat(VmEndpoint.Query.parse("", CAP).waitFor()).isEmpty();
    }
}

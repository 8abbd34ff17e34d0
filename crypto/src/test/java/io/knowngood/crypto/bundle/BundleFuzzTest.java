package io.knowngood.crypto.bundle;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.TestReporter;

/**
 * Jazzer fuzz test of the verifier, bounded for every build: the crypto pom runs it in fuzzing
 * mode (JAZZER_FUZZ=1) for 5 s (10 s until 2026-12-06, when CI's 15 minutes ran short), with a 5 s limit per input
 * ({@link BundleFuzzing#PER_INPUT}), from a fixed libFuzzer seed (knowngood.fuzz.seed in crypto/pom.xml)
 * so that a failing build replays the same mutations; {@code -Pfuzz} runs with a random seed. Without JAZZER_FUZZ it replays the
 * saved inputs in src/test/resources/.../BundleFuzzTestInputs/. The long run is
 * {@link BundleFuzzLong}, behind {@code -Pfuzz}.
 */
class BundleFuzzTest {
    @FuzzTest(maxDuration = "5s")
    void mutatedArchives(FuzzedDataProvider data) {
        BundleFuzzing.fuzzOne(data);
    }

    @AfterAll
    static void report(TestReporter reporter) {
        reporter.publishEntry("bundle fuzzing", BundleFuzzing.EXECUTIONS.get() + " inputs, " + BundleFuzzing.VERIFIED.get() + " verified");
    }
}

package io.knowngood.crypto.bundle;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.TestReporter;

/** The same fuzz target as {@link BundleFuzzTest} for 10 minutes: {@code mvn -B -ntp -pl crypto verify -Pfuzz}. */
class BundleFuzzLong {
    @FuzzTest(maxDuration = "10m")
    void mutatedArchives(FuzzedDataProvider data) {
        BundleFuzzing.fuzzOne(data);
    }

    @AfterAll
    static void report(TestReporter reporter) {
        reporter.publishEntry("bundle fuzzing", BundleFuzzing.EXECUTIONS.get() + " inputs, " + BundleFuzzing.VERIFIED.get() + " verified");
    }
}

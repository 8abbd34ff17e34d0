package io.knowngood.chaos;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The source checkout these tests run in, for the scripts in its {@code bin/} (bin/kgnode, bin/demo):
 * found by walking up from the working directory (surefire runs in chaos-tests/) to the directory
 * holding both {@code bin/demo} and the root {@code pom.xml}.
 */
final class Checkout {

    private Checkout() {}

    static Path root() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("bin/demo")) && Files.isRegularFile(d.resolve("pom.xml"))) {
                return d;
            }
        }
        throw new IllegalStateException("no checkout with bin/demo above " + Path.of("").toAbsolutePath());
    }

    static Path bin(String script) {
        return root().resolve("bin").resolve(script);
    }
}

package io.knowngood.cli.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.knowngood.testkit.Ci;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * guest/kg-fetch.ps1 read by a PowerShell parser, since no PowerShell runs here: tree-sitter-powershell
 * (the grammar editors use), through web-tree-sitter on node, both from the npm registry at pinned
 * versions into {@code target/ps1-parser}. The script must parse without an error and without syntax
 * only PowerShell 7 parses (it runs on Windows PowerShell 5.1); it must run only its own functions,
 * cmdlets listed as checked to ship with 5.1, and tar.exe; every variable it reads must be set
 * somewhere (under {@code Set-StrictMode} reading an unset one stops the script); its parameters must
 * be the ones docs/kgctl.md documents, its exit codes kg-fetch.sh's. Four broken copies show the checks
 * can fail. Skipped without node and npm, failed without them under CI=true.
 */
class KgFetchPs1ParseTest {
    private static final Path SCRIPT = Path.of("..", "guest", "kg-fetch.ps1").toAbsolutePath().normalize();
    private static final Path SH_SCRIPT = Path.of("..", "guest", "kg-fetch.sh").toAbsolutePath().normalize();
    private static final Path GUIDE = Path.of("..", "docs", "kgctl.md").toAbsolutePath().normalize();
    private static final Path PREFIX = Path.of("target", "ps1-parser").toAbsolutePath();
    /** Pinned: the parser's reading of the script must not change under the test. */
    private static final List<String> PACKAGES = List.of("web-tree-sitter@0.25.10", "tree-sitter-powershell@0.26.4");
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * The cmdlets kg-fetch.ps1 may run besides its own functions: each one checked to ship with Windows
     * PowerShell 5.1 (modules Microsoft.PowerShell.Core, .Management and .Utility). A new one goes here
     * only once that is checked: PowerShell 6 and 7 added cmdlets 5.1 lacks (Join-String, Test-Json,
     * Get-Error, ...), and a misspelt function is only found on the path that calls it.
     */
    private static final Set<String> WINDOWS_POWERSHELL_51 = Set.of("ConvertFrom-Json", "ConvertTo-Json", "ForEach-Object",
            "Get-Command", "Get-Content", "Get-FileHash", "Get-Item", "Get-Process", "Invoke-WebRequest", "Join-Path", "Move-Item",
            "New-Item", "New-Object", "Out-Null", "Remove-Item", "Select-Object", "Set-Content", "Set-StrictMode", "Split-Path",
            "Start-Sleep", "Test-Path", "Where-Object");
    /** PowerShell's automatic variables the script may read (lower case: names are not case-sensitive). */
    private static final Set<String> AUTOMATIC = Set.of("_", "true", "false", "null", "lastexitcode", "matches", "pid", "args",
            "psscriptroot", "pscommandpath", "psversiontable", "error", "host", "input");
    /** Programs it runs: tar.exe ships with Windows 10 1803 and Server 2019 on (its documented needs). */
    private static final Set<String> PROGRAMS = Set.of("tar.exe");

    @TempDir
    Path dir;

    private static Path reader;

    @BeforeAll
    static void installTheParser() throws Exception {
        String missing = Ci.missingTools("node", "npm");
        assumeTrue(Ci.available(missing), missing);
        assertThat(SCRIPT).as("guest/kg-fetch.ps1 in this checkout").isRegularFile();
        if (!Files.isRegularFile(PREFIX.resolve("node_modules/tree-sitter-powershell/tree-sitter-powershell.wasm"))
                || !Files.isRegularFile(PREFIX.resolve("node_modules/web-tree-sitter/package.json"))) {
            Files.createDirectories(PREFIX);
            List<String> npm = new ArrayList<>(List.of("npm", "install", "--prefix", PREFIX.toString(), "--no-audit", "--no-fund",
                    "--ignore-scripts", "--loglevel", "error"));
            npm.addAll(PACKAGES);
            Process p = new ProcessBuilder(npm).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(300, TimeUnit.SECONDS)).as("npm install finished").isTrue();
            assertThat(p.exitValue()).as("npm install %s (the npm registry must be reachable):%n%s", PACKAGES, out).isZero();
        }
        reader = PREFIX.resolve("ps1-parse.cjs");
        try (InputStream in = KgFetchPs1ParseTest.class.getResourceAsStream("ps1-parse.cjs")) {
            Files.copy(in, reader, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * The parser's reading of {@code script}: errors, parameters, assignments, variables. V8 compiles
     * the grammar's 1 MiB of WebAssembly with its baseline compiler only: optimising it as well took
     * 6 s of CPU per run here, for a parse that takes 60 ms.
     */
    private static JsonNode read(Path script) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("node", "--liftoff-only", reader.toString(), PREFIX.toString(), script.toString()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the parser finished").isTrue();
        assertThat(p.exitValue()).as("node ps1-parse.cjs %s: %s", script, err).isZero();
        return JSON.readTree(out);
    }

    private static List<String> strings(JsonNode array) {
        List<String> l = new ArrayList<>();
        array.forEach(n -> l.add(n.isTextual() ? n.asText() : n.toString()));
        return l;
    }

    /** The commands the script runs that are neither its own functions, nor known 5.1 cmdlets, nor its programs. */
    private static List<String> unknownCommands(JsonNode reading) {
        List<String> own = strings(reading.get("functions"));
        return strings(reading.get("commands")).stream()
                .filter(c -> !own.contains(c) && !WINDOWS_POWERSHELL_51.contains(c) && !PROGRAMS.contains(c)).toList();
    }

    /**
     * The variables the script names but never sets (anywhere: scopes are not told apart), other than
     * PowerShell's automatic ones and the environment. Under {@code Set-StrictMode} reading one stops
     * the script, on the path that reads it.
     */
    private static List<String> unsetVariables(JsonNode reading) {
        Set<String> set = new HashSet<>();
        strings(reading.get("setVariables")).forEach(v -> set.add(v.toLowerCase(Locale.ROOT)));
        return strings(reading.get("variables")).stream()
                .filter(v -> !v.regionMatches(true, 0, "env:", 0, 4))
                .filter(v -> !AUTOMATIC.contains(v.toLowerCase(Locale.ROOT)) && !set.contains(v.toLowerCase(Locale.ROOT)))
                .toList();
    }

    @Test
    void kgFetchPs1_parsesWithoutAnError() throws Exception {
        JsonNode r = read(SCRIPT);

        assertThat(strings(r.get("errors"))).as("syntax errors in %s", SCRIPT).isEmpty();
        assertThat(strings(r.get("ps7Only"))).as("PowerShell 7 only syntax (the script runs on Windows PowerShell 5.1)").isEmpty();
        assertThat(unsetVariables(r)).as("variables named but never set").isEmpty();
        assertThat(unknownCommands(r)).as("commands that are no function of the script, no cmdlet of Windows PowerShell 5.1 "
                + "checked into WINDOWS_POWERSHELL_51, and no program it needs").isEmpty();
        assertThat(strings(r.get("functions"))).contains("Stop-With", "Get-Sha256");
    }

    @Test
    void itsExitCodes_areKgFetchShs() throws Exception {
        Map<String, String> sh = new TreeMap<>();
        Matcher m = Pattern.compile("(?m)^(EXIT_[A-Z_]+)=(\\d+)$").matcher(Files.readString(SH_SCRIPT));
        while (m.find()) {
            sh.put(m.group(1), m.group(2));
        }
        Map<String, String> ps1 = new TreeMap<>();
        read(SCRIPT).get("assignments").fields().forEachRemaining(e -> {
            if (e.getKey().startsWith("EXIT_")) {
                ps1.put(e.getKey(), e.getValue().asText());
            }
        });

        assertThat(sh).as("kg-fetch.sh's exit codes").hasSizeGreaterThanOrEqualTo(7);
        assertThat(ps1).isEqualTo(sh);
    }

    @Test
    void everyParameter_isDocumented() throws Exception {
        List<String> parameters = strings(read(SCRIPT).get("parameters"));
        String guide = Files.readString(GUIDE);
        String section = guide.substring(guide.indexOf("**`guest/kg-fetch.ps1`**"), guide.indexOf("## Mesh membership"));

        assertThat(parameters).contains("Name", "Target", "Url", "HealthCommand");
        for (String p : parameters) {
            assertThat(section).as("docs/kgctl.md's kg-fetch.ps1 part names -%s", p).contains("-" + p + " ");
        }
    }

    @Test
    void theChecksCanFail_aBraceMissing_aVariableOrFunctionMisspelt_aPowerShell7OperatorOrCmdlet() throws Exception {
        String script = Files.readString(SCRIPT);
        Path brace = dir.resolve("brace.ps1");
        int last = script.lastIndexOf('}');
        Files.writeString(brace, script.substring(0, last) + script.substring(last + 1));
        Path misspelt = dir.resolve("misspelt.ps1");
        assertThat(script).contains("$EXIT_REFUSED");
        Files.writeString(misspelt, script.replaceFirst("(?s)(\\$EXIT_REFUSED = 1.*?)\\$EXIT_REFUSED", "$1\\$EXIT_REFUSD"));

        Path chained = dir.resolve("chained.ps1");
        Files.writeString(chained, script + "\nWrite-Output a && Write-Output b\n");
        Path unknown = dir.resolve("unknown.ps1");
        Files.writeString(unknown, script.replaceFirst("Stop-With \\$EXIT_USAGE", "Stop-Wiht \\$EXIT_USAGE")
                + "\n@('a', 'b') | Join-String -Separator ','\n");

        assertThat(strings(read(brace).get("errors"))).isNotEmpty();
        assertThat(unsetVariables(read(misspelt))).containsExactly("EXIT_REFUSD");
        JsonNode r = read(chained);
        assertThat(strings(r.get("errors"))).isEmpty();
        assertThat(strings(r.get("ps7Only"))).singleElement().asString().contains("&& Write-Output b");
        assertThat(unknownCommands(read(unknown))).containsExactly("Join-String", "Stop-Wiht");
    }
}

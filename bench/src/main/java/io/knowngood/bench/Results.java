package io.knowngood.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What one benchmark run measured: its parameters, one or more tables and notes (e.g. "etcd-server not
 * installed: reference row skipped"). {@link #finish} prints the tables as Markdown and writes the same
 * as JSON, to {@code --json PATH} when given, else to {@code <bench.results>/<name>.json}
 * ({@code bench.results} defaults to {@code bench/target/results}; bench/run.sh sets it).
 */
final class Results {
    private final String name;
    private final Map<String, Object> params = new LinkedHashMap<>();
    private final List<Table> tables = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private final Instant started = Instant.now();

    /** The measuring part of a benchmark's main. */
    interface Body {
        void measure(Results results) throws Exception;
    }

    /**
     * A benchmark's whole main: measures, prints, writes the JSON, and exits (0, or 1 with the
     * stack trace when it failed), so no lingering client or server thread keeps the JVM up.
     */
    static void main(String name, String[] args, Body body) {
        int status = 0;
        try {
            Results r = new Results(name);
            body.measure(r);
            r.finish(args);
        } catch (Throwable e) {
            e.printStackTrace();
            status = 1;
        }
        System.out.flush();
        System.exit(status);
    }

    Results(String name) {
        this.name = name;
        params.put("nproc", Runtime.getRuntime().availableProcessors());
        params.put("java", System.getProperty("java.version"));
    }

    Results param(String key, Object value) {
        params.put(key, value);
        return this;
    }

    Table table(String title, String... columns) {
        Table t = new Table(title, List.of(columns));
        tables.add(t);
        return t;
    }

    /** A line printed under the tables and kept in the JSON (a skipped reference row, a refusal seen). */
    void note(String line) {
        notes.add(line);
    }

    /** Prints every table and note, then writes the JSON; returns where it went. */
    Path finish(String[] args) throws IOException {
        StringBuilder out = new StringBuilder();
        for (Table t : tables) {
            out.append("\n# ").append(t.title).append('\n');
            out.append("| ").append(String.join(" | ", t.columns)).append(" |\n");
            out.append("|").append("---|".repeat(t.columns.size())).append('\n');
            for (List<Object> row : t.rows) {
                out.append("| ");
                for (int i = 0; i < row.size(); i++) {
                    out.append(i == 0 ? "" : " | ").append(cell(row.get(i)));
                }
                out.append(" |\n");
            }
        }
        for (String n : notes) {
            out.append("note: ").append(n).append('\n');
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("benchmark", name);
        json.put("started", started.toString());
        json.put("finished", Instant.now().toString());
        json.put("params", params);
        List<Map<String, Object>> ts = new ArrayList<>();
        for (Table t : tables) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("title", t.title);
            m.put("columns", t.columns);
            m.put("rows", t.rows);
            ts.add(m);
        }
        json.put("tables", ts);
        json.put("notes", notes);
        Path path = jsonPath(args);
        Files.createDirectories(path.toAbsolutePath().getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(path.toFile(), json);
        out.append("results: ").append(path.toAbsolutePath()).append('\n');
        System.out.print(out);
        return path;
    }

    private Path jsonPath(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--json") && i + 1 < args.length) {
                return Path.of(args[i + 1]);
            }
            if (args[i].startsWith("--json=")) {
                return Path.of(args[i].substring("--json=".length()));
            }
        }
        return Path.of(System.getProperty("bench.results", "bench/target/results"), name + ".json");
    }

    /** Where a benchmark keeps node data dirs and logs: {@code <bench.work>/<sub>}, default bench/target/work. */
    static Path workDir(String sub) {
        return Path.of(System.getProperty("bench.work", "bench/target/work"), sub).toAbsolutePath();
    }

    private static String cell(Object v) {
        if (v instanceof Double d) {
            return Double.isNaN(d) ? "-" : String.format(Locale.ROOT, "%.1f", d);
        }
        return String.valueOf(v);
    }

    /** Rows of cells (strings or numbers) under named columns. */
    static final class Table {
        final String title;
        final List<String> columns;
        final List<List<Object>> rows = new ArrayList<>();

        private Table(String title, List<String> columns) {
            this.title = title;
            this.columns = columns;
        }

        Table row(Object... cells) {
            if (cells.length != columns.size()) {
                throw new IllegalArgumentException(cells.length + " cells for " + columns.size() + " columns");
            }
            rows.add(List.of(cells));
            return this;
        }
    }
}

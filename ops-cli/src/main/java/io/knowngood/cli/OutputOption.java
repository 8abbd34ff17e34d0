package io.knowngood.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.PrintWriter;
import picocli.CommandLine.Option;

/** The {@code --output text|json} option, mixed into every command that prints data. */
public final class OutputOption {
    public enum Format { text, json }

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "text",
            description = "text (for people) or json (stable field names, for scripts). Default: ${DEFAULT-VALUE}.")
    Format format = Format.text;

    public boolean json() {
        return format == Format.json;
    }

    /** Writes {@code value} as one JSON document. */
    public void printJson(PrintWriter out, Object value) {
        try {
            out.println(JSON.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
        out.flush();
    }
}

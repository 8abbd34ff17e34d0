package io.knowngood.crypto.bundle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** What a rejected JSON document's detail says: the parser's reason and position, not its note about hidden input. */
class JsonProblemTest {

    @Test
    void aTruncatedObject_keepsThePosition_withoutJacksonsSourceNote() {
        JsonProcessingException e = catchThrowableOfType(() -> new ObjectMapper().readTree("{\"waves\": ["), JsonProcessingException.class);
        assertThat(e.getOriginalMessage()).as("what Jackson says").contains("Source:");

        Rejection r = ManifestCodec.jsonProblem("rollout", e);

        assertThat(r).isInstanceOf(Rejection.MalformedJson.class);
        assertThat(r.detail()).startsWith("rollout is not valid JSON: Unexpected end-of-input")
                .contains("[line: 1, column: ").doesNotContain("Source").doesNotContain("REDACTED");
    }

    @Test
    void aDuplicateKey_isItsOwnRejection() {
        ObjectMapper strict = new ObjectMapper();
        strict.enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        JsonProcessingException e = catchThrowableOfType(() -> strict.readTree("{\"a\":1,\"a\":2}"), JsonProcessingException.class);

        assertThat(ManifestCodec.jsonProblem("manifest.json", e)).isEqualTo(new Rejection.DuplicateKey("manifest.json", "a"));
    }
}

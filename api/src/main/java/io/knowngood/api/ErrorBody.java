package io.knowngood.api;

import java.util.Objects;
import java.util.Optional;

/**
 * The error body of both endpoints: {@code {"error":"<code>","detail":"<one line>"}}. A publish
 * refused as a rollback (409) adds {@code current} (the highest version ever accepted) and
 * {@code offered}. {@code error} stays a string so a code from a newer node survives reading.
 *
 * @param current only on a rollback, else null
 * @param offered only on a rollback, else null
 */
public record ErrorBody(String error, String detail, Long current, Long offered) {

    public ErrorBody {
        Objects.requireNonNull(error, "error");
    }

    public static ErrorBody of(ErrorCode code, String detail) {
        return new ErrorBody(code.wire(), detail, null, null);
    }

    public static ErrorBody rollback(String detail, long current, long offered) {
        return new ErrorBody(ErrorCode.ROLLBACK.wire(), detail, current, offered);
    }

    /** The code as a constant; empty when this version does not know it. */
    public Optional<ErrorCode> code() {
        return ErrorCode.fromWire(error);
    }

    /** {@code error: detail}, one line for people. */
    public String line() {
        return detail == null ? error : error + ": " + detail;
    }
}

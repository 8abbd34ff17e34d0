package io.knowngood.crypto.rollout;

/** What {@link ControlCodec#verify} found: a control signed by a trusted key, or why not. */
public sealed interface ControlCheck {

    /** {@code wire} is the exact signed document that was verified (what is replicated and stored). */
    record Valid(RolloutControl control, byte[] wire, String keyId) implements ControlCheck {
    }

    /** {@code reason} is one line for logs and 422 answers. */
    record Invalid(String reason) implements ControlCheck {
    }
}

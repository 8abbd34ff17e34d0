package io.knowngood.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.api.AuditList;
import org.junit.jupiter.api.Test;

/** The audit entry as the node's log shows it: what an entry lacks is left out, never printed as "null". */
class AuditLogLineTest {

    @Test
    void aCreatedPublish_showsNameAtVersion_andTheDigest() {
        AuditList.Entry e = new AuditList.Entry("2026-12-05T10:00:00Z", "ci", "10.0.0.5", "publish", "web", 7L, "abc123", 201, "created");
        assertThat(AuditLog.logLine(e)).isEqualTo("audit: publish 201 web@7 by ci from 10.0.0.5: created abc123");
    }

    @Test
    void aRefusedPublish_hasNoVersionOrDigest_andNoNullOrTrailingSpace() {
        AuditList.Entry e = new AuditList.Entry("2026-12-05T10:00:00Z", "-", "10.0.0.9", "publish", "web", null, null, 401, "unauthorized");
        assertThat(AuditLog.logLine(e)).isEqualTo("audit: publish 401 web by - from 10.0.0.9: unauthorized");
        AuditList.Entry noName = new AuditList.Entry("2026-12-05T10:00:00Z", "-", "10.0.0.9", "control", null, null, null, 400, "invalid");
        assertThat(AuditLog.logLine(noName)).isEqualTo("audit: control 400 - by - from 10.0.0.9: invalid");
    }
}

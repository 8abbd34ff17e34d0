package io.knowngood.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.knowngood.replication.SiteIdClashWatch.Identity;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class SiteIdClashWatchTest {
  private static final Duration GRACE = Duration.ofSeconds(10);
  private static final long S = 1_000_000_000L;
  private static final Identity SELF = new Identity("west", "10.0.2.1:7800", 2_000);
  private static final Identity EARLIER = new Identity("east", "10.0.1.1:7800", 1_000);
  private static final Identity LATER = new Identity("east", "10.0.1.1:7800", 3_000);

  private final SiteIdClashWatch watch = new SiteIdClashWatch(SELF, GRACE);

  @Test
  void identity_roundTripsAndRefusesAnythingElse() {
    assertThat(Identity.parse(EARLIER.encode())).contains(EARLIER);
    assertThat(Identity.parse(new Identity("a", "[fd00::1]:7800", 0).encode())).contains(new Identity("a", "[fd00::1]:7800", 0));
    for (String bad : List.of("", "site=east", "site=east;address=1.2.3.4:7800;since=-1", "site=;address=a;since=1",
        "site=east;address=1.2.3.4:7800;since=99999999999999999999", "site=east;address=a b;since=1",
        "site=east;address=1.2.3.4:7800;since=1;more")) {
      assertThat(Identity.parse(bad.getBytes(StandardCharsets.US_ASCII))).as(bad).isEmpty();
    }
    assertThat(Identity.parse(null)).isEmpty();
    assertThat(Identity.parse(new byte[300])).isEmpty();
  }

  @Test
  void whoCameFirst_theEarlierMesh_thenTheSiteName() {
    assertThat(EARLIER.before(SELF)).isTrue();
    assertThat(SELF.before(EARLIER)).isFalse();
    Identity tie = new Identity("east", "10.0.1.1:7800", SELF.since());
    assertThat(tie.before(SELF)).isTrue();
    assertThat(SELF.before(tie)).isFalse();
  }

  @Test
  void aCopyBroughtBackOnce_isNeverAClash() {
    assertThat(watch.look(List.of(EARLIER.encode(), EARLIER.encode()), 0).confirmed()).isEmpty();
    for (long t = 2; t <= 60; t += 2) {
      SiteIdClashWatch.Look look = watch.look(List.of(), t * S);
      assertThat(look.confirmed()).isEmpty();
      assertThat(look.leaveFor()).isEmpty();
    }
  }

  @Test
  void anEarlierHostThatKeepsWriting_isConfirmedAtTheSecondLook_andLeftForAfterTheGrace() {
    assertThat(watch.look(List.of(EARLIER.encode()), 0).confirmed()).isEmpty();
    SiteIdClashWatch.Look second = watch.look(List.of(EARLIER.encode()), 2 * S);
    assertThat(second.confirmed()).containsExactly(new SiteIdClashWatch.Clash(EARLIER, true));
    assertThat(second.leaveFor()).isEmpty();
    assertThat(watch.look(List.of(EARLIER.encode()), 11 * S).leaveFor()).as("the grace counts from the confirmation").isEmpty();
    SiteIdClashWatch.Look after = watch.look(List.of(EARLIER.encode()), 12 * S);
    assertThat(after.confirmed()).isEmpty(); // reported once
    assertThat(after.leaveFor()).contains(EARLIER);
  }

  @Test
  void aSecondSightingLongAfterTheFirst_confirms_butLeavesOnlyAGraceLater() {
    watch.look(List.of(EARLIER.encode()), 0);
    SiteIdClashWatch.Look late = watch.look(List.of(EARLIER.encode()), 15 * S);
    assertThat(late.confirmed()).containsExactly(new SiteIdClashWatch.Clash(EARLIER, true));
    assertThat(late.leaveFor()).as("the earlier host gets the grace to see this one too").isEmpty();
    assertThat(watch.look(List.of(EARLIER.encode()), 25 * S).leaveFor()).contains(EARLIER);
  }

  @Test
  void aLaterHost_isReported_butThisNodeStays() {
    watch.look(List.of(LATER.encode()), 0);
    assertThat(watch.look(List.of(LATER.encode()), 2 * S).confirmed()).containsExactly(new SiteIdClashWatch.Clash(LATER, false));
    for (long t = 4; t <= 40; t += 2) {
      assertThat(watch.look(List.of(LATER.encode()), t * S).leaveFor()).isEmpty();
    }
  }

  @Test
  void thisNodesOwnSite_isLeftToTheView() {
    Identity sameSite = new Identity("west", "10.0.2.9:7800", 1_000);
    for (long t = 0; t <= 30; t += 2) {
      SiteIdClashWatch.Look look = watch.look(List.of(sameSite.encode()), t * S);
      assertThat(look.confirmed()).isEmpty();
      assertThat(look.leaveFor()).isEmpty();
    }
  }

  @Test
  void aHostNotHeardFromForThreeGraces_isForgotten_andCountedAfreshWhenBack() {
    watch.look(List.of(EARLIER.encode()), 0);
    watch.look(List.of(EARLIER.encode()), 2 * S);
    assertThat(watch.look(List.of(), 33 * S).leaveFor()).isEmpty();
    assertThat(watch.look(List.of(EARLIER.encode()), 34 * S).confirmed()).isEmpty();
    assertThat(watch.look(List.of(EARLIER.encode()), 36 * S).confirmed()).containsExactly(new SiteIdClashWatch.Clash(EARLIER, true));
    assertThat(watch.look(List.of(EARLIER.encode()), 45 * S).leaveFor()).isEmpty();
    assertThat(watch.look(List.of(EARLIER.encode()), 46 * S).leaveFor()).contains(EARLIER);
  }

  @Test
  void garbage_isIgnored() {
    byte[] junk = "site=east;address=10.0.1.1:7800".getBytes(StandardCharsets.US_ASCII);
    for (long t = 0; t <= 30; t += 2) {
      SiteIdClashWatch.Look look = watch.look(List.of(junk, new byte[0]), t * S);
      assertThat(look.confirmed()).isEmpty();
      assertThat(look.leaveFor()).isEmpty();
    }
  }
}

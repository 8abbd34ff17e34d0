package io.knowngood.replication;

import java.time.Instant;
import java.util.Optional;

/**
 * Another site as this node sees it: online while its site master was heard from within {@link
 * SiteContacts#ONLINE_WITHIN} (directly by this node if it is its site's master, else as its own site
 * master last reported). Infinispan's sites view is not used: it may say a site is up while nothing flows.
 */
public record SiteInfo(String name, boolean online, Optional<Instant> lastContact) {}

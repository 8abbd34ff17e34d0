package io.knowngood.replication;

/**
 * What {@link Mesh#publish} observed before it answered: how many members of the current view
 * (this node included) hold {@code version} or higher of {@code name}. {@code complete} is true when
 * every member in view holds it; false means the answer came at the publish timeout (or the mesh
 * was still starting) and anti-entropy will finish the job.
 */
public record PublishOutcome(String name, long version, int membersHolding, int membersInView, boolean complete) {}

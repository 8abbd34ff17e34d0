package io.knowngood.node.cluster;

/** How far a publish got: how many members of the current view hold the version now. */
public record PublishResult(int membersHolding, int membersInView, boolean complete) {}

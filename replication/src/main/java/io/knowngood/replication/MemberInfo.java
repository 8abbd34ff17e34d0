package io.knowngood.replication;

/** One member of the current view: its node id, its cluster address ({@code ip:port}) and whether it is this node. */
public record MemberInfo(String id, String address, boolean self) {}

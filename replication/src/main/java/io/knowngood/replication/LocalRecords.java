package io.knowngood.replication;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** {@link MeshRecords} for a mesh of one: this member's records, kept in memory, replicated to nobody. */
public final class LocalRecords implements MeshRecords {

    private final String selfId;
    private final Map<String, byte[]> own = new ConcurrentHashMap<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();

    public LocalRecords(String selfId) {
        this.selfId = selfId;
    }

    @Override
    public PutResult putOwn(String key, byte[] value) {
        if (key == null || !KEY.matcher(key).matches()) {
            return PutResult.BAD_KEY;
        }
        if (value.length > MAX_VALUE_BYTES) {
            return PutResult.VALUE_TOO_LARGE;
        }
        byte[] old = own.get(key);
        if (old != null && Arrays.equals(old, value)) {
            return PutResult.UNCHANGED;
        }
        if (old == null && own.size() >= MAX_RECORDS_PER_MEMBER) {
            return PutResult.TOO_MANY_RECORDS;
        }
        own.put(key, value.clone());
        listeners.forEach(l -> l.changed(key, selfId));
        return PutResult.STORED;
    }

    @Override
    public void removeOwn(String key) {
        if (own.remove(key) != null) {
            listeners.forEach(l -> l.changed(key, selfId));
        }
    }

    @Override
    public Map<String, Map<String, byte[]>> snapshot() {
        Map<String, Map<String, byte[]>> all = new HashMap<>();
        own.forEach((k, v) -> all.put(k, Map.of(selfId, v.clone())));
        return all;
    }

    @Override
    public Map<String, byte[]> of(String key) {
        byte[] value = own.get(key);
        return value == null ? Map.of() : Map.of(selfId, value.clone());
    }

    @Override
    public String selfId() {
        return selfId;
    }

    @Override
    public void addListener(Listener listener) {
        listeners.add(listener);
    }
}

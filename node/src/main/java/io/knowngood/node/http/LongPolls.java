package io.knowngood.node.http;

import io.knowngood.crypto.bundle.VerifiedBundle;
import io.knowngood.node.store.StoreObserver;
import io.undertow.server.HttpServerExchange;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.Optional;
import java.util.function.BiPredicate;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.xnio.XnioExecutor;

/**
 * Parked long-poll requests ({@code ?wait=S&after=V}). A waiter is an exchange, a timer on its I/O
 * thread and an entry in a map: no thread is held, so thousands of idle waiters cost a few hundred
 * bytes each. The store (every stored version) and the rollouts (every change of what is served)
 * tell this registry when a name's waiters should check again; a waiter is answered by whichever
 * comes first: what it waits for (see {@link #park}), its timer, or its client going away.
 */
final class LongPolls implements StoreObserver {

    /** What to do with a parked exchange when it is released (always run on its I/O thread). */
    interface Answer {
        void ready(HttpServerExchange exchange);

        void timedOut(HttpServerExchange exchange);
    }

    private final Map<String, Set<Waiter>> byName = new ConcurrentHashMap<>();
    private final AtomicInteger waiting = new AtomicInteger();

    int waiting() {
        return waiting.get();
    }

    /**
     * Parks {@code exchange}; must be called from inside {@code exchange.dispatch(SameThreadExecutor, ...)}
     * so the exchange stays open after the handler returns. {@code decidedOn} is what the caller saw
     * served when it decided to wait; {@code served} is re-read after registering, so a version (or a
     * tie winner) stored between the caller's check and now is not missed. A waiter is ready when what
     * this host serves is newer than {@code after}, is another copy of {@code after} (a same-version tie
     * won by a peer's bundle), or is older because {@code after} was reverted ({@code reverted}).
     */
    void park(HttpServerExchange exchange, String name, long after, Optional<VerifiedBundle> decidedOn, Duration wait,
              Supplier<Optional<VerifiedBundle>> served, BiPredicate<String, Long> reverted, Answer answer) {
        String parkedDigest = decidedOn.filter(b -> b.version() == after).map(VerifiedBundle::manifestDigest).orElse(null);
        Waiter w = new Waiter(exchange, name, after, answer, () -> {
            Optional<VerifiedBundle> now = served.get();
            if (now.isEmpty()) {
                return false;
            }
            long v = now.get().version();
            return v > after || (parkedDigest != null && v == after && !now.get().manifestDigest().equals(parkedDigest))
                    || (v < after && reverted.test(name, after));
        });
        byName.computeIfAbsent(name, k -> ConcurrentHashMap.newKeySet()).add(w);
        waiting.incrementAndGet();
        exchange.getConnection().addCloseListener(c -> w.finish(Outcome.GONE));
        w.timer = exchange.getIoThread().executeAfter(() -> w.finish(Outcome.TIMEOUT), wait.toMillis(), TimeUnit.MILLISECONDS);
        w.check();
    }

    /** What {@code name}'s waiters wait for may have changed (a rollout moved): each checks again. */
    void recheck(String name) {
        Set<Waiter> set = byName.get(name);
        if (set != null) {
            set.forEach(Waiter::check);
        }
    }

    @Override
    public void stored(VerifiedBundle bundle, String source, boolean becameCurrent) {
        recheck(bundle.name());
    }

    /**
     * The copy served at {@code winner}'s version changed (a same-version tie won by a peer's
     * bundle): waiters that hold that version hold the replaced copy, so they get the winner.
     */
    @Override
    public void tieReplaced(VerifiedBundle winner, String replacedDigest, String source) {
        recheck(winner.name());
    }

    private enum Outcome { READY, TIMEOUT, GONE }

    private final class Waiter {
        final HttpServerExchange exchange;
        final String name;
        final long after;
        final Answer answer;
        final AtomicBoolean done = new AtomicBoolean();
        volatile XnioExecutor.Key timer;

        final BooleanSupplier ready;

        Waiter(HttpServerExchange exchange, String name, long after, Answer answer, BooleanSupplier ready) {
            this.exchange = exchange;
            this.name = name;
            this.after = after;
            this.answer = answer;
            this.ready = ready;
        }

        void check() {
            if (!done.get() && ready.getAsBoolean()) {
                finish(Outcome.READY);
            }
        }

        void finish(Outcome outcome) {
            if (!done.compareAndSet(false, true)) {
                return;
            }
            Set<Waiter> set = byName.get(name);
            if (set != null) {
                set.remove(this);
                if (set.isEmpty()) {
                    byName.remove(name, set);
                }
            }
            waiting.decrementAndGet();
            XnioExecutor.Key t = timer;
            if (outcome != Outcome.TIMEOUT && t != null) {
                t.remove();
            }
            if (outcome == Outcome.GONE) {
                return;
            }
            exchange.getIoThread().execute(() -> {
                if (outcome == Outcome.READY) {
                    answer.ready(exchange);
                } else {
                    answer.timedOut(exchange);
                }
            });
        }
    }
}

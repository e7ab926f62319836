// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.soak;

import io.dstunnel.Dstunnel;
import io.dstunnel.demo.TunnelClient;
import io.dstunnel.support.Proxies;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The chaos soak: sessions call Increment(1) continuously through the proxy while a driver kills,
 * restarts and hangs backends at random. Every answer must be the next number of its session:
 * a smaller one is a duplicate, a missing one is lost; any HTTP error is a client-visible error.
 * Sessions end and reopen now and then (as real clients do), so a growing heap means a leak.
 *
 * <pre>load-tests/chaos-soak.sh [seconds] [sessions]</pre>
 */
public final class ChaosSoak {

  /** What a run found. */
  public record Result(long calls, long lost, long duplicated, long errors, long failovers, long sessionsLeft,
                       long heapStartBytes, long heapEndBytes) {
    @Override
    public String toString() {
      return String.format("calls %d, lost %d, duplicated %d, client-visible errors %d, failovers %d, sessions left %d,"
          + " heap after GC: start %.1f MiB, end %.1f MiB", calls, lost, duplicated, errors, failovers, sessionsLeft,
          heapStartBytes / 1048576.0, heapEndBytes / 1048576.0);
    }
  }

  private final Vertx vertx;
  private final int sessions;
  private final long seconds;
  private final Random random = new Random(42);
  /** The driver's own: the sessions draw from {@code random} on other threads. */
  private final Random chaosRandom = new Random(7);
  private final AtomicLong calls = new AtomicLong();
  private final AtomicLong lost = new AtomicLong();
  private final AtomicLong duplicated = new AtomicLong();
  private final AtomicLong errors = new AtomicLong();
  private volatile boolean running = true;

  public ChaosSoak(Vertx vertx, int sessions, long seconds) {
    this.vertx = vertx;
    this.sessions = sessions;
    this.seconds = seconds;
  }

  public static void main(String[] args) {
    long seconds = args.length > 0 ? Long.parseLong(args[0]) : 600;
    int sessions = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    Vertx vertx = Vertx.vertx();
    Result r = new ChaosSoak(vertx, sessions, seconds).run();
    System.out.println("chaos soak, " + seconds + " s, " + sessions + " sessions: " + r);
    vertx.close().await();
    System.exit(r.lost() + r.duplicated() + r.errors() == 0 ? 0 : 1);
  }

  /** Runs the soak (blocking the calling thread, never an event loop) and reports. */
  public Result run() {
    Context chaosContext = vertx.getOrCreateContext();
    List<ChaosBackend> backends = new ArrayList<>();
    Promise<Void> ready = Promise.promise();
    chaosContext.runOnContext(v -> {
      List<Future<Void>> inits = new ArrayList<>();
      for (String n : List.of("A", "B", "C")) {
        ChaosBackend b = new ChaosBackend(vertx, n);
        backends.add(b);
        inits.add(b.init());
      }
      Future.all(inits).<Void>mapEmpty().onComplete(ready);
    });
    ready.future().await();
    Proxies config = Proxies.config().noAuth()
        .set("pool", "answerTimeoutMs", 1500)
        .set("health", "intervalMs", 200).set("health", "timeoutMs", 400).set("health", "kind", "dbx")
        .set("health", "rise", 2).set("health", "fall", 1)
        .set("session", "maxFailovers", 1_000_000).set("session", "idleTimeoutMs", 120_000);
    for (int i = 0; i < backends.size(); i++) {
      config.backend(backends.get(i).name.toLowerCase(), backends.get(i).port(), i);
    }
    Dstunnel proxy = config.start(vertx);
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    // Heap after GC, sampled ten times over the run; the first sample (10% in, all sessions
    // warmed up) is the start: a flat series means nothing accumulates.
    List<Long> heap = new java.util.concurrent.CopyOnWriteArrayList<>();
    long every = Math.max(1, seconds * 1000 / 10);
    long sampler = vertx.setPeriodic(every, t -> vertx.executeBlocking(ChaosSoak::heapAfterGc, false)
        .onSuccess(heap::add));
    List<Future<Void>> workers = new ArrayList<>();
    for (int s = 0; s < sessions; s++) {
      Promise<Void> done = Promise.promise();
      Context ctx = vertx.getOrCreateContext();
      int id = s;
      ctx.runOnContext(v -> session(proxy, vertx.createHttpClient(), id, end, done));
      workers.add(done.future());
    }
    // The first blow is at the primary, where every session starts: each run fails over at least
    // once (left to chance, one short run in forty never touched it).
    chaosContext.runOnContext(v -> vertx.setTimer(500, t -> {
      backends.get(0).down();
      vertx.setTimer(500 + chaosRandom.nextInt(2000), t2 -> chaos(backends, end));
    }));
    Future.join(workers).await();
    running = false;
    vertx.cancelTimer(sampler);
    long heapEnd = heapAfterGc();
    long heapStart = heap.isEmpty() ? heapEnd : heap.get(0);
    System.out.println("heap after GC every " + every / 1000 + " s (MiB): "
        + heap.stream().map(h -> String.format("%.1f", h / 1048576.0)).toList());
    long failovers = (long) proxy.metrics().failovers();
    long left = proxy.sessions().open();
    proxy.stop().await();
    return new Result(calls.get(), lost.get(), duplicated.get(), errors.get(), failovers, left, heapStart, heapEnd);
  }

  /** One client: sessions of a few hundred calls, one after the other, until the end. */
  private void session(Dstunnel proxy, HttpClient http, int id, long end, Promise<Void> done) {
    if (System.nanoTime() > end) {
      http.close().onComplete(v -> done.complete());
      return;
    }
    // One HTTP client per worker, shared by its successive sessions (sessions outlive connections).
    TunnelClient c = new TunnelClient(vertx, http, "127.0.0.1", proxy.port(), null, null, 32768);
    int length = 200 + random.nextInt(800);
    c.handshake().compose(v -> c.prepare("Increment"))
        .compose(h -> calls(c, h, 1, length, end))
        .compose(v -> c.close())
        .onComplete(ar -> {
          if (ar.failed()) {
            errors.incrementAndGet();
            System.out.println("session " + id + ": " + ar.cause());
          }
          session(proxy, http, id, end, done);
        });
  }

  private Future<Void> calls(TunnelClient c, int handle, long expected, int length, long end) {
    if (expected > length || System.nanoTime() > end) {
      return Future.succeededFuture();
    }
    // An answer that never comes is lost: after 30 s the session is given up (and counted).
    Promise<Object> answered = Promise.promise();
    long timer = vertx.setTimer(30_000, t -> answered.tryFail(new IllegalStateException("no answer in 30 s")));
    c.execute(handle, 1).onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        answered.tryComplete(ar.result());
      } else {
        answered.tryFail(ar.cause());
      }
    });
    return answered.future().recover(err -> {
      if (err.getMessage() != null && err.getMessage().startsWith("no answer")) {
        lost.incrementAndGet();
      }
      return Future.failedFuture(err);
    }).compose(answer -> {
      long got = ((Number) answer).longValue();
      calls.incrementAndGet();
      if (got < expected) {
        duplicated.incrementAndGet();
      } else if (got > expected) {
        lost.addAndGet(got - expected);
      }
      // About 20 calls a second per session: the replay log stays small and the failovers many.
      return vertx.timer(40 + random.nextInt(20)).compose(t -> calls(c, handle, got + 1, length, end));
    });
  }

  /** Every 0.5 to 2.5 s: kill, hang or bring back a backend; at least one stays up. */
  private void chaos(List<ChaosBackend> backends, long end) {
    if (!running || System.nanoTime() > end) {
      backends.forEach(ChaosBackend::up);
      return;
    }
    long up = backends.stream().filter(b -> b.state() == ChaosBackend.State.UP).count();
    ChaosBackend b = backends.get(chaosRandom.nextInt(backends.size()));
    switch (b.state()) {
      case UP -> {
        if (up >= 2) {
          if (chaosRandom.nextInt(4) == 0) {
            b.hang();
          } else {
            b.down();
          }
        }
      }
      case DOWN, HUNG -> b.up();
      default -> { }
    }
    vertx.setTimer(500 + chaosRandom.nextInt(2000), t -> chaos(backends, end));
  }

  private static long heapAfterGc() {
    System.gc();
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}

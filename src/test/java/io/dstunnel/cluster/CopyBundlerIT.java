// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.dstunnel.config.ProxyConfig;
import io.dstunnel.session.Addresses;
import io.dstunnel.session.copy.Handout;
import io.dstunnel.session.message.Progress;
import io.dstunnel.support.ClusterNodes;
import io.dstunnel.support.ProxyProcess;
import io.dstunnel.support.Proxies;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An owner's steps to a copy holder, bundled per holder ({@link CopyBundler}): two real cluster
 * members in this JVM (JGroups and the event bus over mutual TLS, on loopback); what reaches the
 * holder is seen by its event bus's inbound interceptor.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CopyBundlerIT {

  private Vertx owner;
  private Vertx holder;
  private ClusterNode ownerNode;
  private ClusterNode holderNode;
  private final SimpleMeterRegistry ownerMeters = new SimpleMeterRegistry();
  /** The test's steps as the holder received them: "alone:KIND:sid", or "bundle:sid,sid,…". */
  private final List<String> arrived = new CopyOnWriteArrayList<>();

  @BeforeEach
  void twoMembers() throws Exception {
    int a = ProxyProcess.freePort();
    int b = ProxyProcess.freePort();
    String name = "bundler-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
    CompletableFuture<Vertx> first = CompletableFuture.supplyAsync(() -> member(name, a, b, a));
    holder = member(name, a, b, b);
    owner = first.get(60, TimeUnit.SECONDS);
    ownerNode = node(owner, ownerMeters, name, a, b, a);
    holderNode = node(holder, new SimpleMeterRegistry(), name, a, b, b);
    await().atMost(Duration.ofSeconds(30)).until(() -> ownerNode.members().size() == 2
        && holderNode.members().size() == 2);
    holder.eventBus().addInboundInterceptor(ctx -> {
      Object body = ctx.message().body();
      if (body instanceof CopyOp op && op.sessionId().startsWith("t-")) {
        arrived.add("alone:" + op.kind() + ":" + op.sessionId());
      } else if (body instanceof CopyBundle bundle && bundle.ops().get(0).sessionId().startsWith("t-")) {
        arrived.add("bundle:" + String.join(",", bundle.ops().stream().map(CopyOp::sessionId).toList()));
      }
      ctx.next();
    });
  }

  @AfterEach
  void close() {
    for (Vertx v : new Vertx[] {owner, holder}) {
      if (v != null) {
        v.close().await();
      }
    }
  }

  @Test
  void stepsAskedOfOneHolderInOneTurnGoInOneMessageEachAnsweredAsIfAlone() {
    holder.deployVerticle(new ClusterVerticle(holderNode, 1)).await();
    CopyBundler bundler = new CopyBundler(ownerNode);
    List<CopyOp> opened = inOneTurn(asks -> {
      for (int i = 0; i < 5; i++) {
        asks.add(bundler.ask(holderNode.id(), open("t-" + i)));
      }
    });
    assertThat(opened).extracting(CopyOp::kind).containsOnly(CopyOp.Kind.ACK);
    assertThat(opened).extracting(CopyOp::sessionId).containsExactly("t-0", "t-1", "t-2", "t-3", "t-4");
    assertThat(holderNode.copiesHeld.get()).isEqualTo(5);
    assertThat(ownerMeters.counter("dstunnel.cluster.copy.steps").count()).isEqualTo(5);
    assertThat(ownerMeters.counter("dstunnel.cluster.copy.messages").count()).isEqualTo(1);

    // Each step is judged on its own: a session the holder has no copy of, a stale epoch, a close.
    List<CopyOp> answers = inOneTurn(asks -> {
      asks.add(bundler.ask(holderNode.id(), append("t-0", 1)));
      asks.add(bundler.ask(holderNode.id(), append("t-none", 1)));
      asks.add(bundler.ask(holderNode.id(), CopyOp.of(CopyOp.Kind.OPEN, "t-1", 0, ownerNode.id())));
      bundler.tell(holderNode.id(), CopyOp.of(CopyOp.Kind.CLOSE, "t-2", 1, ownerNode.id()));
      asks.add(bundler.ask(holderNode.id(), append("t-2", 1)));
    });
    assertThat(answers).extracting(CopyOp::kind).containsExactly(CopyOp.Kind.ACK, CopyOp.Kind.UNKNOWN,
        CopyOp.Kind.MOVED, CopyOp.Kind.UNKNOWN);
    assertThat(holderNode.copiesHeld.get()).isEqualTo(4);
    assertThat(arrived).containsExactly("bundle:t-0,t-1,t-2,t-3,t-4", "bundle:t-0,t-none,t-1,t-2,t-2");
  }

  /**
   * A step alone goes at once, as a bundle of one: the steps for a holder all go to one address,
   * whose order the event bus keeps (a told step may be followed at once by the session's next).
   */
  @Test
  void aStepAloneGoesAtOnceToTheSameAddressAsBundles() {
    holder.deployVerticle(new ClusterVerticle(holderNode, 1)).await();
    CopyBundler bundler = new CopyBundler(ownerNode);
    assertThat(inOneTurn(asks -> asks.add(bundler.ask(holderNode.id(), open("t-a")))))
        .extracting(CopyOp::kind).containsExactly(CopyOp.Kind.ACK);
    inOneTurn(asks -> asks.add(bundler.tell(holderNode.id(), CopyOp.of(CopyOp.Kind.CLOSE, "t-a", 1, ownerNode.id()))
        .map((CopyOp) null)));
    assertThat(holderNode.copiesHeld.get()).isZero();
    assertThat(arrived).containsExactly("bundle:t-a", "bundle:t-a");
  }

  /** Only a keyed member can reach the bundle address; still, a bundle with a step it may not carry changes nothing. */
  @Test
  void aBundleWithAStepItMayNotCarryIsRefusedWhole() {
    holder.deployVerticle(new ClusterVerticle(holderNode, 1)).await();
    Future<CopyBundle> refused = ownerNode.askAll(holderNode.id(), new CopyBundle(List.of(open("t-q"),
        CopyOp.adopt("t-q", 1, false, null, 0))), 10_000);
    assertThat(refused.transform(ar -> Future.succeededFuture(ar.cause())).await())
        .hasMessageContaining("unexpected ADOPT");
    assertThat(holderNode.copiesHeld.get()).isZero();
  }

  /**
   * The mark that a hand-out's bytes went to the client is told without an answer; the owner's
   * next copy of a write carries the hand-out again, so a holder that missed the mark has it
   * before it could be asked to adopt on a later read.
   */
  @Test
  void aWritesCopyCarriesTheLastHandOutsWrittenMarkAgain() {
    CopyKeeper keeper = new CopyKeeper(holderNode);
    Progress before = new Progress(1, 0, 100);
    Progress after = new Progress(2, 0, 200);
    Handout unsent = new Handout(before, after, null, 5, false);
    keeper.answer(open("t-w")).await();
    keeper.answer(CopyOp.give("t-w", 1, ownerNode.id(), unsent, List.of(), List.of())).await();
    CopyOp anotherRead = CopyOp.adopt("t-w", 1, true, "n2", 6);
    assertThat(keeper.copy("t-w").adoption(anotherRead, ownerNode.id()).given())
        .as("the owner died before the bytes went out: the next read is owed them").isEqualTo(before);

    keeper.answer(CopyOp.append("t-w", 1, ownerNode.id(), Buffer.buffer("more"), 7, "firstmore".length(),
        unsent.written(), List.of(), List.of())).await();
    assertThat(keeper.copy("t-w").adoption(anotherRead, ownerNode.id()).given())
        .as("the bytes went out: the next read goes on after them").isEqualTo(after);
  }

  /** A member of a version before bundles (a rolling upgrade): it has no bundle address. */
  @Test
  void aHolderThatTakesNoBundlesGetsTheStepsOneByOne() {
    holder.eventBus().<CopyOp>consumer(Addresses.copies(holderNode.id()),
        msg -> msg.reply(CopyOp.of(CopyOp.Kind.ACK, msg.body().sessionId(), 1, ownerNode.id()))).completion().await();
    CopyBundler bundler = new CopyBundler(ownerNode);
    List<CopyOp> answers = inOneTurn(asks -> {
      asks.add(bundler.ask(holderNode.id(), open("t-x")));
      asks.add(bundler.ask(holderNode.id(), open("t-y")));
    });
    assertThat(answers).extracting(CopyOp::sessionId).containsExactly("t-x", "t-y");
    assertThat(arrived).containsExactly("alone:OPEN:t-x", "alone:OPEN:t-y");
    // From then on (for CopyBundler.ONE_BY_ONE_MS) that holder's steps go one a message at once,
    // without a bundle that finds no handler first.
    inOneTurn(asks -> asks.add(bundler.ask(holderNode.id(), open("t-z"))));
    assertThat(arrived).containsExactly("alone:OPEN:t-x", "alone:OPEN:t-y", "alone:OPEN:t-z");
    assertThat(ownerMeters.counter("dstunnel.cluster.copy.messages").count()).as("a bundle, two alone, one alone")
        .isEqualTo(4);
  }

  /**
   * A member's port probe is shared by the event loops that ask within half a second; each must
   * hear the answer on its own thread (a session verticle's copy holders are touched from the
   * answer). Before, the second heard it on the first one's thread.
   */
  @Test
  void aProbeSharedByTwoEventLoopsAnswersEachOnItsOwnThread() {
    Context first = verticleContext();
    Context second = verticleContext();
    String[] threads = new String[4];
    Promise<Void> firstAnswered = Promise.promise();
    Promise<Void> secondAnswered = Promise.promise();
    first.runOnContext(v -> {
      probeFromHere(threads, 0, firstAnswered);
      // The second asks once the first's probe is under way: it shares it.
      second.runOnContext(w -> probeFromHere(threads, 2, secondAnswered));
    });
    Future.all(firstAnswered.future(), secondAnswered.future()).await();
    assertThat(threads[0]).as("two event loops").isNotEqualTo(threads[2]);
    assertThat(threads[1]).isEqualTo(threads[0]);
    assertThat(threads[3]).isEqualTo(threads[2]);
  }

  /** Probes the holder from this thread: its name at {@code at}, the answering thread's at {@code at + 1}. */
  private void probeFromHere(String[] threads, int at, Promise<Void> answered) {
    threads[at] = Thread.currentThread().getName();
    ownerNode.refuses(holderNode.id()).onComplete(ar -> {
      threads[at + 1] = Thread.currentThread().getName();
      answered.complete();
    });
  }

  /** The context of a verticle of its own on the owner (each deployment takes the next event loop). */
  private Context verticleContext() {
    Promise<Context> captured = Promise.promise();
    owner.deployVerticle(new io.vertx.core.VerticleBase() {
      @Override
      public Future<?> start() {
        captured.complete(context);
        return Future.succeededFuture();
      }
    }).await();
    return captured.future().await();
  }

  /** Runs {@code asking} in one task on a context of the owner's, and waits for the answers it collected. */
  private List<CopyOp> inOneTurn(Consumer<List<Future<CopyOp>>> asking) {
    Context context = owner.getOrCreateContext();
    Promise<List<CopyOp>> all = Promise.promise();
    context.runOnContext(v -> {
      List<Future<CopyOp>> asks = new ArrayList<>();
      asking.accept(asks);
      Future.all(asks).map(done -> asks.stream().map(Future::result).toList()).onComplete(all);
    });
    return all.future().await();
  }

  private CopyOp open(String sid) {
    return CopyOp.open(sid, 1, ownerNode.id(), "alice", List.of(Buffer.buffer("first")), List.of(), Handout.NONE,
        List.of(), List.of());
  }

  private CopyOp append(String sid, long epoch) {
    return CopyOp.append(sid, epoch, ownerNode.id(), Buffer.buffer("more"), 7, "firstmore".length(), null, List.of(),
        List.of());
  }

  private static JsonObject config(String name, int a, int b, int port) {
    return Proxies.config().json().put("backends", new JsonArray().add(new JsonObject().put("name", "unused")
        .put("port", 1))).put("cluster", new JsonObject().put("enabled", true).put("name", name)
        .put("host", "127.0.0.1").put("port", port).put("members", new JsonArray().add("127.0.0.1:" + a)
            .add("127.0.0.1:" + b)).put("backups", 1).put("secret", ClusterNodes.SECRET));
  }

  private static Vertx member(String name, int a, int b, int port) {
    return ClusterSetup.vertx(Vertx.builder(), new VertxOptions(), ProxyConfig.fromJson(config(name, a, b, port))
        .cluster()).await();
  }

  private static ClusterNode node(Vertx vertx, SimpleMeterRegistry meters, String name, int a, int b, int port) {
    return new ClusterNode(vertx, ProxyConfig.fromJson(config(name, a, b, port)).cluster(),
        new ClusterMetrics(meters), 60_000, new BackendModes(vertx, null));
  }
}

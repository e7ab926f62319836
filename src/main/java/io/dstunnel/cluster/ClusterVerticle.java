// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.session.Addresses;
import io.dstunnel.session.message.TunnelCommand;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's cluster-facing side: it wires its five cluster addresses to the classes that serve
 * them, the inbox where other nodes forward requests for the sessions it owns ({@link NodeInbox}),
 * the copy keeper, which holds the copies of other nodes' sessions and adopts one when asked
 * ({@link CopyKeeper}, {@link Adoptions}), the directory announcements, and the session list;
 * and runs the warm-up of the members' addresses ({@link AddressWarmUp}) and the expiry of silent
 * copies.
 */
public final class ClusterVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterSetup.class);

  private final ClusterNode node;
  private final CopyKeeper copies;
  private final NodeInbox relay;
  private final AddressWarmUp warmUp;
  private MessageConsumer<TunnelCommand> inbox;
  private MessageConsumer<CopyOp> keeper;
  private MessageConsumer<CopyBundle> bundles;
  private MessageConsumer<CopyOp> where;
  private MessageConsumer<String> announcements;
  private MessageConsumer<Void> sessionList;
  private long warmTimer;
  private Future<Void> reached = Future.succeededFuture();
  private long sweepTimer;
  private final int sessionVerticles;

  /** {@code sessionVerticles}: how many session verticles this node runs (for the session list). */
  public ClusterVerticle(ClusterNode node, int sessionVerticles) {
    this.node = node;
    this.sessionVerticles = sessionVerticles;
    this.copies = new CopyKeeper(node);
    this.relay = new NodeInbox(node, copies.adoptions());
    this.warmUp = new AddressWarmUp(node);
  }

  @Override
  public Future<?> start() {
    inbox = vertx.eventBus().consumer(Addresses.nodeInbox(node.id()), relay::relay);
    keeper = vertx.eventBus().consumer(Addresses.copies(node.id()), copies::keep);
    bundles = vertx.eventBus().consumer(Addresses.copyBundles(node.id()), copies::keepAll);
    where = vertx.eventBus().consumer(Addresses.whereIs(node.id()),
        msg -> msg.reply(node.directory().located(msg.body().sessionId())));
    announcements = vertx.eventBus().consumer(Addresses.DIRECTORY, msg -> node.directory().heard(msg.body()));
    node.directory().start();
    sessionList = vertx.eventBus().consumer(Addresses.nodeSessions(node.id()), msg ->
        node.sessionsHere(sessionVerticles).onSuccess(msg::reply));
    warmTimer = vertx.setPeriodic(1000, t -> warmUp.warmUp());
    sweepTimer = vertx.setPeriodic(Math.max(50, node.timings().keepAliveMs() / 2), t -> copies.forgetSilentCopies());
    long started = System.nanoTime();
    return Future.all(List.of(inbox.completion(), keeper.completion(), bundles.completion(), where.completion(),
        announcements.completion(), sessionList.completion())).onSuccess(v -> {
          reached = reachedByAll(started, false);
        });
  }

  /**
   * Completes once every member has answered this node's warm-up, at most {@link StartAlone#WAIT_MS}
   * after this verticle started: the node opens its HTTP and admin ports only then, so that the
   * members it forwards to can answer it (a node serving before would answer 404 to sessions it
   * cannot reach). Its session verticles are up before, to adopt the sessions it may win meanwhile.
   */
  public Future<Void> reachedByAll() {
    return reached;
  }

  /**
   * Checks every 200 ms whether every member has answered the warm-up ({@link AddressWarmUp#unanswered})
   * (see {@link #reachedByAll()}); {@code said}: the wait was logged.
   */
  private Future<Void> reachedByAll(long started, boolean said) {
    warmUp.warmUp();
    List<String> missing = warmUp.unanswered();
    long waitedMs = (System.nanoTime() - started) / 1_000_000;
    if (missing.isEmpty()) {
      if (said) {
        LOG.info("dstunnel cluster: every member reaches this node now, after {} ms", waitedMs);
      }
      return Future.succeededFuture();
    }
    if (waitedMs >= StartAlone.WAIT_MS) {
      LOG.warn("dstunnel cluster: members {} have not answered this node within {} s: serving, requests "
          + "forwarded to them may time out until they do", missing, StartAlone.WAIT_MS / 1000);
      return Future.succeededFuture();
    }
    boolean say = !said && waitedMs >= 1000;
    if (say) {
      LOG.info("dstunnel cluster: waiting up to {} s for members {} to reach this node before serving",
          StartAlone.WAIT_MS / 1000, missing);
    }
    return vertx.timer(200).compose(t -> reachedByAll(started, said || say));
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(warmTimer);
    vertx.cancelTimer(sweepTimer);
    return Future.join(List.of(inbox.unregister(), keeper.unregister(), bundles.unregister(), where.unregister(),
        announcements.unregister(), sessionList.unregister()));
  }
}

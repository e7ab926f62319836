// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.dstunnel.session.Addresses;
import io.dstunnel.session.copy.Adoption;
import io.dstunnel.session.SessionFailure;
import io.dstunnel.session.SessionSnapshots;
import io.dstunnel.session.SessionVerticle;
import io.dstunnel.session.TunnelCommand;
import io.dstunnel.session.TunnelReply;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's cluster-facing side, with three cluster addresses: its inbox, where other nodes
 * forward requests for the sessions it owns (relayed to the session on the local bus); its copy
 * keeper, which holds the copies of other nodes' sessions and adopts one when asked (the epoch
 * raised on the copy, then claimed from the other members by {@link Claims}: of two asked at
 * once, or of two holders, one adopts and the others learn the new owner); and the directory
 * announcements.
 */
public final class ClusterVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterVerticle.class);
  private static final int MOVED_KEPT = 100_000;
  /** How often a session's adoption is tried (each on a request for it) before the session ends. */
  private static final int ADOPTION_TRIES = 3;

  private final ClusterNode node;
  private final Map<String, SessionCopy> copies = new HashMap<>();
  private final Map<String, Future<CopyOp>> adopting = new HashMap<>();
  /** Sessions whose copy this node took over or saw move on: a stale owner asking is told where they went. */
  private final Map<String, CopyOp> moved = new LinkedHashMap<>(16, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, CopyOp> eldest) {
      return size() > MOVED_KEPT;
    }
  };
  private final Claims claims;
  private MessageConsumer<TunnelCommand> inbox;
  private MessageConsumer<CopyOp> keeper;
  private MessageConsumer<String> announcements;
  private MessageConsumer<Void> sessionList;
  private final Set<String> warmed = new HashSet<>();
  private boolean announced;
  private long warmTimer;
  private long sweepTimer;
  private final int sessionVerticles;

  /** {@code sessionVerticles}: how many session verticles this node runs (for the session list). */
  public ClusterVerticle(ClusterNode node, int sessionVerticles) {
    this.node = node;
    this.sessionVerticles = sessionVerticles;
    this.claims = new Claims(node, moved);
  }

  @Override
  public Future<?> start() {
    inbox = vertx.eventBus().consumer(Addresses.nodeInbox(node.id()), this::relay);
    keeper = vertx.eventBus().consumer(Addresses.copies(node.id()), this::keep);
    announcements = vertx.eventBus().consumer(Addresses.DIRECTORY, msg -> node.directory().heard(msg.body()));
    sessionList = vertx.eventBus().consumer(Addresses.nodeSessions(node.id()), msg ->
        SessionSnapshots.gather(vertx, sessionVerticles).onComplete(ar -> {
          JsonArray list = new JsonArray();
          if (ar.succeeded()) {
            ar.result().forEach(s -> list.add(s.put("node", node.id())));
          }
          msg.reply(list);
        }));
    warmTimer = vertx.setPeriodic(1000, t -> warmUp());
    sweepTimer = vertx.setPeriodic(Math.max(50, node.keepAliveMs() / 2), t -> forgetSilentCopies());
    return Future.all(List.of(inbox.completion(), keeper.completion(), announcements.completion(),
        sessionList.completion())).onSuccess(v -> warmUp());
  }

  /**
   * Reaches every member's addresses, as soon as it is seen, until each has answered: the event bus
   * then knows where they are (and has its connection) before a member's death makes it urgent.
   * The first look-up of an address asks the cluster manager, which waits for a dead or paused
   * member's data to move (its removal, about ten seconds) when that address's entry is on it;
   * and a look-up that finds no handler yet (a member seen before its verticles registered) is
   * not remembered, so only an answer proves the address known. This node's own addresses too: an
   * adopter that is also the node a request came to asks its own copy keeper. The announcements'
   * address likewise, once: an adopter announces itself at once.
   * (Delivering to them with {@code localOnly} instead was tried: adoptions then failed.)
   */
  private void warmUp() {
    long timeout = node.config().suspectAfterMs();
    for (String member : node.members()) {
      if (warmed.add(member)) {
        // A request with an answer, to the copy keeper and to the inbox ("not here" for no session).
        Future<?> keeper = node.ask(member, CopyOp.of(CopyOp.Kind.CHECK, "", 0, node.id()), timeout);
        Future<?> inbox = vertx.eventBus().request(Addresses.nodeInbox(member), TunnelCommand.close("-", null),
            ClusterNode.within(timeout));
        Future.all(keeper, inbox).onFailure(err -> warmed.remove(member));  // tried again at the next tick
      }
    }
    warmed.retainAll(node.members());
    if (!announced) {
      announced = true;
      vertx.eventBus().publish(Addresses.DIRECTORY, "-|-");  // forgets no session: there is none named "-"
    }
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(warmTimer);
    vertx.cancelTimer(sweepTimer);
    return Future.join(List.of(inbox.unregister(), keeper.unregister(), announcements.unregister(),
        sessionList.unregister()));
  }

  /** A request forwarded by another node: to the session, if it lives here. */
  private void relay(Message<TunnelCommand> msg) {
    TunnelCommand cmd = msg.body();
    String address = Addresses.session(cmd.sessionId());
    if (cmd.kind() == TunnelCommand.Kind.CANCEL_READ || cmd.kind() == TunnelCommand.Kind.UNREAD
        || cmd.kind() == TunnelCommand.Kind.DELIVERED) {
      DeliveryOptions local = new DeliveryOptions(Addresses.LOCAL);
      String origin = msg.headers().get(Addresses.ORIGIN);
      if (origin != null) {
        local.addHeader(Addresses.ORIGIN, origin);
      }
      vertx.eventBus().send(address, cmd, local);
      return;
    }
    toSession(msg, cmd, false);
  }

  /**
   * Gives a forwarded request to the session here. A session this node is taking over at that
   * moment (another node learned of the adoption first) gets it once the adoption is done
   * ({@code again}: this is that second try); otherwise "not here", with the owner this node knows.
   */
  private void toSession(Message<TunnelCommand> msg, TunnelCommand cmd, boolean again) {
    long timeout = cmd.kind() == TunnelCommand.Kind.READ ? cmd.sliceMs() + 10_000 : 30_000;
    DeliveryOptions local = new DeliveryOptions(Addresses.LOCAL).setSendTimeout(timeout);
    String origin = msg.headers().get(Addresses.ORIGIN);
    if (origin != null) {
      local.addHeader(Addresses.ORIGIN, origin);
    }
    vertx.eventBus().<TunnelReply>request(Addresses.session(cmd.sessionId()), cmd, local)
        .onComplete(ar -> {
          if (ar.succeeded() && ar.result().body().failure() != SessionFailure.NOT_HERE) {
            msg.reply(ar.result().body());
          } else if (ar.succeeded() || ar.cause() instanceof ReplyException re
              && re.failureType() == ReplyFailure.NO_HANDLERS) {
            Future<CopyOp> adoption = adopting.get(cmd.sessionId());
            if (adoption != null && !again) {
              adoption.onComplete(done -> toSession(msg, cmd, true));
              return;
            }
            // Not here (any more): say who owns it, if this node knows.
            SessionRecord r = node.directory().cached(cmd.sessionId());
            msg.reply(TunnelReply.failed(SessionFailure.NOT_HERE, r == null || r.owner().equals(node.id()) ? null
                : r.announce()));
          } else {
            msg.reply(TunnelReply.failed(SessionFailure.INTERNAL, String.valueOf(ar.cause())));
          }
        });
  }

  private void keep(Message<CopyOp> msg) {
    CopyOp op = msg.body();
    String sid = op.sessionId();
    SessionCopy copy = copies.get(sid);
    CopyOp gone = moved.get(sid);
    switch (op.kind()) {
      case OPEN -> {
        if (gone != null && gone.epoch() > op.epoch() || copy != null && copy.epoch() > op.epoch()) {
          msg.reply(gone != null ? gone : CopyOp.of(CopyOp.Kind.MOVED, sid, copy.epoch(), copy.owner()));
        } else {
          moved.remove(sid);  // an owner's copy is newer than what this node knew of the session
          copies.put(sid, new SessionCopy(op));
          node.copiesHeld.set(copies.size());
          msg.reply(CopyOp.of(CopyOp.Kind.ACK, sid, op.epoch(), op.owner()));
        }
      }
      case APPEND, DROP, CHECK, GIVE -> {
        if (gone != null && gone.epoch() > op.epoch()) {
          msg.reply(gone);
        } else if (copy == null) {
          msg.reply(CopyOp.of(CopyOp.Kind.UNKNOWN, sid, op.epoch(), null));
        } else if (copy.epoch() > op.epoch()) {
          msg.reply(CopyOp.of(CopyOp.Kind.MOVED, sid, copy.epoch(), copy.owner()));
        } else {
          boolean whole = true;
          copy.heard();
          copy.exclude(op.excluded());
          copy.learn(op.handles());
          if (op.kind() == CopyOp.Kind.APPEND) {
            whole = copy.append(op.count(), op.chunks().get(0), op.writeId());
          } else if (op.kind() == CopyOp.Kind.DROP) {
            copy.drop();
          } else if (op.kind() == CopyOp.Kind.GIVE) {
            copy.handedOut(op.handout());
          }
          msg.reply(whole ? CopyOp.of(CopyOp.Kind.ACK, sid, copy.epoch(), copy.owner())
              : CopyOp.of(CopyOp.Kind.UNKNOWN, sid, op.epoch(), null));
        }
      }
      case CLOSE -> {
        dropCopy(sid);
        msg.reply(CopyOp.of(CopyOp.Kind.ACK, sid, op.epoch(), op.owner()));
      }
      case ADOPT -> adopt(op).onComplete(ar -> msg.reply(ar.succeeded() ? ar.result()
          : CopyOp.of(CopyOp.Kind.UNKNOWN, sid, op.epoch(), null)));
      case CLAIM -> {
        CopyOp answer = claims.heard(op);
        if (answer.kind() == CopyOp.Kind.ACK && copy != null && copy.epoch() < op.epoch()) {
          dropCopy(sid);  // another node takes the session over and copies it anew
        }
        msg.reply(answer);
      }
      default -> msg.fail(400, "unexpected " + op.kind());
    }
  }

  /**
   * Takes the session over from its copy, once: a second request for the same session while the
   * first is under way gets the same answer; one that comes with an older epoch than the copy's
   * learns the owner that already took it.
   */
  private Future<CopyOp> adopt(CopyOp op) {
    String sid = op.sessionId();
    Future<CopyOp> running = adopting.get(sid);
    if (running != null) {
      // A leaving owner's hand-over does not take the answer of an adoption another node asked
      // for because it found that owner silent: "the owner still answers" (MOVED to the owner
      // itself) is no hand-over, and the owner would forget a session nobody took.
      return op.count() == CopyOp.HANDED_OVER ? running.transform(ar -> adopt(op)) : running;
    }
    CopyOp gone = moved.get(sid);
    if (gone != null) {
      return Future.succeededFuture(gone);
    }
    SessionCopy copy = copies.get(sid);
    if (copy == null || !copy.replayable() || op.count() == CopyOp.HANDED_OVER && node.isLeaving(node.id())) {
      // (A node that is leaving too takes no hand-over: the owner copies the session to one that stays.)
      return Future.succeededFuture(CopyOp.of(CopyOp.Kind.UNKNOWN, sid, op.epoch(), null));
    }
    if (copy.epoch() > op.epoch() && !(copy.owner().equals(node.id()) && copy.adoptionFailed())) {
      return Future.succeededFuture(CopyOp.of(CopyOp.Kind.MOVED, sid, copy.epoch(), copy.owner()));
    }
    Future<CopyOp> done;
    if (copy.owner().equals(node.id()) && copy.adoptionFailed()) {
      // This node won the session's claim, then could not replay it (no backend answered): it tries again.
      done = adoptHere(copy, sid, "(itself, again)", op);
    } else {
      String previous = copy.owner();
      long epoch = copy.epoch();
      done = ownerAnswers(previous, op, copy).compose(alive -> {
        if (alive) {
          // The node that asked is cut off from an owner this node hears (a split): it keeps the session.
          return Future.succeededFuture(CopyOp.of(CopyOp.Kind.MOVED, sid, epoch, previous));
        }
        if (copies.get(sid) != copy || copy.epoch() != epoch) {
          return Future.succeededFuture(CopyOp.of(CopyOp.Kind.UNKNOWN, sid, op.epoch(), null));
        }
        copy.takenOver(node.id(), epoch + 1);
        return claims.claim(sid, copy.epoch(), previous)
            .compose(winner -> winner == null ? adoptHere(copy, sid, previous, op) : lost(sid, winner));
      });
    }
    adopting.put(sid, done);
    return done.onComplete(ar -> {
      adopting.remove(sid);
      if (ar.failed()) {
        failed(copy, sid, ar.cause());
      }
    });
  }

  /**
   * An adoption failed after this node won the claim: the next request for the session tries
   * again, up to {@link #ADOPTION_TRIES} times; then the session ends, copy and record, as any
   * session that lost its backends (never a session that answers nothing for ever).
   */
  private void failed(SessionCopy copy, String sid, Throwable cause) {
    node.metrics().adoptionFailed();
    if (copies.get(sid) != copy || !copy.owner().equals(node.id())) {
      LOG.warn("node {} could not adopt session {}: {}", node.id(), sid, cause.getMessage());
      return;
    }
    if (copy.adoptionFailed(ADOPTION_TRIES)) {
      LOG.warn("node {} could not adopt session {} ({}) after {} tries: the session ends", node.id(), sid,
          cause.getMessage(), ADOPTION_TRIES);
      dropCopy(sid);
      node.directory().remove(sid);
    } else {
      LOG.warn("node {} could not adopt session {} ({}): the next request for it tries again", node.id(), sid,
          cause.getMessage());
    }
  }

  /**
   * Whether the owner, which another node found dead or silent ({@code asked} is no hand-over),
   * still answers this node: then the asking node is the one cut off. An owner whose port refuses
   * is dead at once. One that is silent and not gone (paused, or across a partition) may still be
   * serving on its lease — half of {@code suspectAfterMs} from the last copy this node acknowledged
   * ({@code ClusterReplication}) — so it is taken for gone only once the copy has heard nothing
   * from it for a whole {@code suspectAfterMs}, and still no answer comes.
   */
  private Future<Boolean> ownerAnswers(String owner, CopyOp asked, SessionCopy copy) {
    if (asked.count() == CopyOp.HANDED_OVER || owner == null || owner.equals(node.id())) {
      return Future.succeededFuture(false);
    }
    long suspect = node.config().suspectAfterMs();
    return node.refuses(owner).compose(gone -> gone ? Future.succeededFuture(false)
        : node.ask(owner, CopyOp.of(CopyOp.Kind.CHECK, "", 0, node.id()), Math.max(100, suspect / 4))
            .map(true).otherwise(false)
            .compose(answers -> {
              long leaseLeft = suspect - copy.silentMs(System.nanoTime());
              if (answers || leaseLeft <= 0) {
                return Future.succeededFuture(answers);
              }
              return vertx.timer(leaseLeft).compose(v -> ownerAnswers(owner, asked, copy));
            }));
  }

  /** Replays the copy into a session of this node's; the answer names this node as the owner. */
  private Future<CopyOp> adoptHere(SessionCopy copy, String sid, String previous, CopyOp asked) {
    Adoption adoption = copy.adoption(asked, previous);
    return vertx.eventBus().<TunnelReply>request(Addresses.ADOPT, adoption,
            new DeliveryOptions(Addresses.LOCAL).setSendTimeout(SessionVerticle.READ_SLICE_MS))
        .map(reply -> {
          if (reply.body().isFailure()) {
            throw new IllegalStateException(reply.body().message());
          }
          LOG.info("node {} adopted session {} from node {} (epoch {}, the client has {} answers and {} bytes of the "
              + "next, {} writes in the copy)", node.id(), sid, previous, copy.epoch(), adoption.given().answers(),
              adoption.given().partBytes(), adoption.log().size());
          node.metrics().adopted();
          dropCopy(sid);
          CopyOp result = CopyOp.of(CopyOp.Kind.MOVED, sid, copy.epoch(), node.id());
          moved.put(sid, result);
          return result;
        });
  }

  /** Another node won the claim: this copy is stale, and asking nodes learn the winner. */
  private Future<CopyOp> lost(String sid, CopyOp winner) {
    LOG.info("node {} did not adopt session {}: node {} did (epoch {})", node.id(), sid, winner.owner(),
        winner.epoch());
    dropCopy(sid);
    return Future.succeededFuture(winner);
  }

  /**
   * Copies whose owner has said nothing for {@link ClusterNode#forgetAfterMs()} go, with what this
   * node knows of their record: the session ended with its idle timeout, or its owner died and its
   * client never came back (cluster.md §6). A live owner keeps its idle sessions' copies alive.
   */
  private void forgetSilentCopies() {
    long now = System.nanoTime();
    long limit = node.forgetAfterMs();
    List<String> silent = copies.entrySet().stream().filter(e -> e.getValue().silentFor(limit, now))
        .map(Map.Entry::getKey).toList();
    for (String sid : silent) {
      LOG.info("node {}: the copy of session {} expired (nothing heard of it for {} ms)", node.id(), sid, limit);
      dropCopy(sid);
      node.directory().forget(sid);
      node.metrics().copyExpired();
    }
  }

  private void dropCopy(String sid) {
    copies.remove(sid);
    node.copiesHeld.set(copies.size());
  }

}

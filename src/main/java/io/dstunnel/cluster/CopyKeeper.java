// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.vertx.core.Future;
import io.vertx.core.eventbus.Message;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's copy keeper ({@code Addresses.copies}): it holds the copies of other nodes' sessions
 * ({@link SessionCopy}), applies their owners' steps to them at the owners' epochs (a stale
 * owner's step is refused with the owner it moved to), answers claims ({@link Claims}), hands
 * adoption requests to {@link Adoptions}, and lets copies go whose owner has said nothing for too
 * long. Used on the cluster verticle's event loop.
 */
final class CopyKeeper {

  private static final Logger LOG = LoggerFactory.getLogger(CopyKeeper.class);
  private static final int MOVED_KEPT = 100_000;

  private final ClusterNode node;
  private final Map<String, SessionCopy> copies = new HashMap<>();
  /** Sessions whose copy this node took over or saw move on: a stale owner asking is told where they went. */
  private final Map<String, CopyOp> moved = new LinkedHashMap<>(16, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, CopyOp> eldest) {
      return size() > MOVED_KEPT;
    }
  };
  private final Claims claims;
  private final Adoptions adoptions;

  CopyKeeper(ClusterNode node) {
    this.node = node;
    this.claims = new Claims(node, moved);
    this.adoptions = new Adoptions(node, copies, moved, claims, this::dropCopy);
  }

  /** The copy of session {@code sid} kept here, or null. */
  SessionCopy copy(String sid) {
    return copies.get(sid);
  }

  /** The adoptions of the copies kept here. */
  Adoptions adoptions() {
    return adoptions;
  }

  /** A message to the copy keeper: an owner's step, a claim, or a request to adopt. */
  void keep(Message<CopyOp> msg) {
    answer(msg.body()).onComplete(ar -> {
      if (ar.succeeded()) {
        msg.reply(ar.result());
      } else {
        msg.fail(400, ar.cause().getMessage());
      }
    });
  }

  /**
   * A bundle of owners' steps ({@link CopyBundler}): each applied in its order, as if it had come
   * alone, and their answers in one message.
   */
  void keepAll(Message<CopyBundle> msg) {
    List<CopyOp> ops = msg.body().ops();
    CopyOp odd = ops.stream().filter(op -> !CopyBundle.BUNDLED.contains(op.kind())).findFirst().orElse(null);
    if (odd != null) {
      msg.fail(400, "unexpected " + odd.kind() + " in a bundle");  // none of it applied
      return;
    }
    List<CopyOp> answers = new ArrayList<>(ops.size());
    for (CopyOp op : ops) {
      answers.add(answer(op).result());  // the bundled kinds are answered at once
    }
    msg.reply(new CopyBundle(answers));
  }

  /** What the keeper answers {@code op}, having applied it. */
  Future<CopyOp> answer(CopyOp op) {
    String sid = op.sessionId();
    SessionCopy copy = copies.get(sid);
    CopyOp gone = moved.get(sid);
    return switch (op.kind()) {
      case OPEN -> {
        if (gone != null && gone.epoch() > op.epoch() || copy != null && copy.epoch() > op.epoch()) {
          yield done(gone != null ? gone : CopyOp.of(CopyOp.Kind.MOVED, sid, copy.epoch(), copy.owner()));
        }
        moved.remove(sid);  // an owner's copy is newer than what this node knew of the session
        copies.put(sid, new SessionCopy(op));
        node.copiesHeld.set(copies.size());
        yield done(CopyOp.of(CopyOp.Kind.ACK, sid, op.epoch(), op.owner()));
      }
      case APPEND, DROP, CHECK, GIVE -> done(step(op, copy, gone));
      case CLOSE -> {
        dropCopy(sid);
        yield done(CopyOp.of(CopyOp.Kind.ACK, sid, op.epoch(), op.owner()));
      }
      case ADOPT -> adoptions.adopt(op).otherwise(CopyOp.of(CopyOp.Kind.UNKNOWN, sid, op.epoch(), null));
      case CLAIM -> {
        CopyOp answer = claims.heard(op);
        if (answer.kind() == CopyOp.Kind.ACK && copy != null && copy.epoch() < op.epoch()) {
          dropCopy(sid);  // another node takes the session over and copies it anew
        }
        yield done(answer);
      }
      default -> Future.failedFuture("unexpected " + op.kind());
    };
  }

  /** An owner's step on a copy this node holds: applied at the owner's epoch, or refused. */
  private CopyOp step(CopyOp op, SessionCopy copy, CopyOp gone) {
    String sid = op.sessionId();
    if (gone != null && gone.epoch() > op.epoch()) {
      return gone;
    }
    if (copy == null) {
      return CopyOp.of(CopyOp.Kind.UNKNOWN, sid, op.epoch(), null);
    }
    if (copy.epoch() > op.epoch()) {
      return CopyOp.of(CopyOp.Kind.MOVED, sid, copy.epoch(), copy.owner());
    }
    boolean whole = true;
    copy.heard();
    copy.exclude(op.excluded());
    copy.learn(op.handles());
    if (op.kind() == CopyOp.Kind.APPEND) {
      whole = copy.append(op.count(), op.chunks().get(0), op.writeId());
      if (op.handout() != null) {
        copy.handedOut(op.handout());  // the owner's reminder: the written mark may have been lost
      }
    } else if (op.kind() == CopyOp.Kind.DROP) {
      copy.drop();
    } else if (op.kind() == CopyOp.Kind.GIVE) {
      copy.handedOut(op.handout());
    }
    return whole ? CopyOp.of(CopyOp.Kind.ACK, sid, copy.epoch(), copy.owner())
        : CopyOp.of(CopyOp.Kind.UNKNOWN, sid, op.epoch(), null);
  }

  private static Future<CopyOp> done(CopyOp answer) {
    return Future.succeededFuture(answer);
  }

  /**
   * Copies whose owner has said nothing for {@link ClusterTimings#forgetAfterMs()} go, with what this
   * node knows of their record: the session ended with its idle timeout, or its owner died and its
   * client never came back (cluster.md §6). A live owner keeps its idle sessions' copies alive.
   */
  void forgetSilentCopies() {
    long now = System.nanoTime();
    long limit = node.timings().forgetAfterMs();
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

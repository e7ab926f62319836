// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Makes sure one node adopts a session, however many are asked at once (with {@code backups} of 2
 * or more, or a holder that was paused and wakes up to adoption requests another holder already
 * served). Before it adopts at epoch {@code e}, a node claims {@code e} from every other member
 * but the owner it takes over from. A claim loses to an adoption already done at {@code e} or
 * later, and of two claims at the same epoch the higher node id wins, on every member alike: the
 * loser answers the winner's claim with a yes and learns it lost; the winner answers the loser's
 * with the winner's name. Members that do not answer within the claim timeout are dead or cut
 * off (as the old owner is) and are not waited for. Used on the cluster verticle's event loop only.
 */
final class Claims {

  /** A claim of this node's, under way. */
  private static final class Claim {
    final long epoch;
    CopyOp lostTo;

    Claim(long epoch) {
      this.epoch = epoch;
    }
  }

  private final ClusterNode node;
  /** Owners known from adoptions done or claims heard (the cluster verticle's map of moved sessions). */
  private final Map<String, CopyOp> moved;
  private final Map<String, Claim> mine = new HashMap<>();

  Claims(ClusterNode node, Map<String, CopyOp> moved) {
    this.node = node;
    this.moved = moved;
  }

  /**
   * Claims session {@code sid} at {@code epoch}, taking it over from {@code previousOwner}: null
   * when this node may adopt it, else the answer that names the owner that won.
   */
  Future<CopyOp> claim(String sid, long epoch, String previousOwner) {
    Claim claim = new Claim(epoch);
    mine.put(sid, claim);
    CopyOp ask = CopyOp.of(CopyOp.Kind.CLAIM, sid, epoch, node.id());
    long timeout = Math.max(50, node.config().suspectAfterMs() / 4);
    List<Future<CopyOp>> answers = new ArrayList<>();
    for (String member : node.members()) {
      if (!member.equals(node.id()) && !member.equals(previousOwner)) {
        answers.add(node.ask(member, ask, timeout).otherwise((CopyOp) null));
      }
    }
    return Future.join(answers).transform(v -> {
      mine.remove(sid);
      if (claim.lostTo != null) {
        return Future.succeededFuture(claim.lostTo);
      }
      for (Future<CopyOp> answer : answers) {
        CopyOp a = answer.result();
        if (a != null && a.kind() == CopyOp.Kind.MOVED) {
          moved.put(sid, a);
          return Future.succeededFuture(a);
        }
      }
      return Future.succeededFuture(null);
    });
  }

  /** Another node's claim: yes (ACK), or the owner that wins over it (MOVED). */
  CopyOp heard(CopyOp claim) {
    String sid = claim.sessionId();
    CopyOp known = moved.get(sid);
    if (known != null && winsOver(known, claim)) {
      return known;
    }
    Claim own = mine.get(sid);
    if (own != null && own.epoch >= claim.epoch()) {
      if (own.epoch > claim.epoch() || node.id().compareTo(claim.owner()) > 0) {
        return CopyOp.of(CopyOp.Kind.MOVED, sid, own.epoch, node.id());
      }
      own.lostTo = CopyOp.of(CopyOp.Kind.MOVED, sid, claim.epoch(), claim.owner());
    }
    moved.put(sid, CopyOp.of(CopyOp.Kind.MOVED, sid, claim.epoch(), claim.owner()));
    return CopyOp.of(CopyOp.Kind.ACK, sid, claim.epoch(), claim.owner());
  }

  /**
   * Whether the owner this node knows of beats {@code claim}: a later epoch; or the same epoch
   * taken by another node that either adopted here (this node's own adoption, done) or has the
   * higher id (a claim heard before).
   */
  private boolean winsOver(CopyOp known, CopyOp claim) {
    if (known.epoch() != claim.epoch()) {
      return known.epoch() > claim.epoch();
    }
    return !known.owner().equals(claim.owner())
        && (known.owner().equals(node.id()) || known.owner().compareTo(claim.owner()) > 0);
  }
}

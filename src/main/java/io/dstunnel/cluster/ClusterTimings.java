// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

/**
 * How long the cluster's waits are: each derived from {@code cluster.suspectAfterMs} and the
 * sessions' idle timeout ({@code session.idleTimeoutMs}), which copies and records follow.
 */
public record ClusterTimings(long suspectAfterMs, long idleTimeoutMs) {

  /**
   * How long a request waits for a split of the cluster to heal, on either side (an owner whose
   * copy holder neither answers nor is gone, a node cut off from a session's owner) before it is
   * refused with 503, the session kept: 10 × {@code suspectAfterMs}.
   */
  long splitWaitMs() {
    return suspectAfterMs * 10;
  }

  /**
   * How long a node a session's owner no longer counts as a member (it was paused, or cut off)
   * waits to be counted again before a read it relays is refused with 503: the split wait, or the
   * time the group may take to let it back ({@link JGroupsStack#rejoinMs}) if longer.
   */
  long rejoinWaitMs() {
    return Math.max(splitWaitMs(), JGroupsStack.rejoinMs(suspectAfterMs));
  }

  /**
   * How long a leaving node goes on handing over its busy sessions past its drain time: an
   * adoption asked of a copy holder is given {@code suspectAfterMs} to be heard and a replay's
   * connect to finish (at least 5 s). Sessions still here after it are left to their copies.
   */
  public long handOverGraceMs() {
    return Math.max(5_000, suspectAfterMs * 2);
  }

  /**
   * How often an owner tells its copy holders and the directory that an idle session lives (a
   * quarter of the idle timeout): what they have not heard of for {@link #forgetAfterMs()} is gone.
   */
  long keepAliveMs() {
    return Math.max(50, idleTimeoutMs / 4);
  }

  /**
   * How long a copy or a directory record outlives the last word of its owner: the idle timeout,
   * two keep-alives and a suspected owner's time (a session is never kept past its idle timeout
   * by much, also when its owner died and its client never came back).
   */
  long forgetAfterMs() {
    return idleTimeoutMs + 2 * keepAliveMs() + suspectAfterMs;
  }
}

// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.cluster;

import static io.dstunnel.support.RawHttp.basic;
import static org.assertj.core.api.Assertions.assertThat;

import io.dstunnel.support.ClusterNodes;
import io.dstunnel.support.ProxyProcess;
import io.dstunnel.support.RawHttp;
import io.dstunnel.support.RawHttp.Answer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * REST sessions count toward {@code session.maxSessionsPerUser} in a cluster too (rest.md,
 * "Limits"): a session served by another node than the one that opened it counts there as well,
 * so a client cannot escape the limit by using its session through one node while the node that
 * opened it forgets it (its place given back after {@code session.idleTimeoutMs} without a
 * request there). Real proxy processes on loopback.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class RestClusterLimitsIT {

  private static final String ADMIN = basic("admin", "admin");
  private static final String PATH = "/datasnap/rest/TServerMethods1/Increment/5";

  @RegisterExtension
  final ClusterNodes cluster = new ClusterNodes();

  /** Before, node 1 served admin's session without counting it, and opened a second one for admin (200). */
  @Test
  void aRestSessionServedByAnotherNodeCountsThereToo(Vertx vertx, @TempDir Path dir) throws Exception {
    JsonArray backends = ClusterNodes.withRest(vertx);
    List<ProxyProcess> n = cluster.start(dir, 2, backends, 2000, 1,
        c -> c.getJsonObject("session").put("maxSessionsPerUser", 1));
    RawHttp opener = new RawHttp(vertx, n.get(0).port());
    RawHttp other = new RawHttp(vertx, n.get(1).port());

    Answer first = opener.get(PATH, "Authorization", ADMIN);
    assertThat(first.status()).isEqualTo(200);
    String session = first.headers().get("Pragma").replaceAll(".*dssession=([^,]+).*", "$1");
    assertThat(other.get(PATH, "Pragma", "dssession=" + session, "Authorization", ADMIN).status())
        .as("admin's session, through node 1").isEqualTo(200);

    Answer second = other.get(PATH, "Authorization", ADMIN);
    assertThat(second.status()).as("a second session of admin, opened on node 1").isEqualTo(429);
    assertThat(opener.get(PATH, "Authorization", ADMIN).status()).as("and on node 0").isEqualTo(429);
  }
}

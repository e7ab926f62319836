// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.auth;

import static io.dstunnel.support.RawHttp.basic;
import static org.assertj.core.api.Assertions.assertThat;

import io.dstunnel.Dstunnel;
import io.dstunnel.demo.TunnelClient;
import io.dstunnel.support.Backends;
import io.dstunnel.support.Proxies;
import io.dstunnel.support.RawHttp;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.hashing.HashingStrategy;
import io.vertx.junit5.VertxExtension;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AuthenticationTest {

  @Test
  void hashedPasswordOpensASessionAndAWrongOneDoesNot(Vertx vertx) {
    String hash = HashingStrategy.load().hash("pbkdf2", Map.of("it", "10000"), "c2FsdHNhbHQ", "s3cret");
    Proxies config = Proxies.config().backend("a", Backends.start(vertx, "A").port(), 0);
    config.json().put("auth", new JsonObject().put("users", new JsonArray()
        .add(new JsonObject().put("name", "ops").put("passwordHash", hash))));
    Dstunnel proxy = config.start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    for (int i = 0; i < 2; i++) { // the second time from the verified-credentials cache
      assertThat(http.put("/datasnap/tunnel?dss=0&c=5", TunnelClient.FILTER_QUERY,
          "Authorization", basic("ops", "s3cret")).status()).isEqualTo(200);
    }
    assertThat(http.put("/datasnap/tunnel?dss=0&c=5", TunnelClient.FILTER_QUERY,
        "Authorization", basic("ops", "wrong")).status()).isEqualTo(401);
  }

  @Test
  void withoutUsersNoCredentialsAreNeeded(Vertx vertx) {
    Dstunnel proxy = Proxies.config().backend("a", Backends.start(vertx, "A").port(), 0).noAuth().start(vertx);
    RawHttp http = new RawHttp(vertx, proxy.port());
    assertThat(http.put("/datasnap/tunnel?dss=0&c=5", TunnelClient.FILTER_QUERY).status()).isEqualTo(200);
  }
}

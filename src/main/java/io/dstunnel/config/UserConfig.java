// SPDX-License-Identifier: Apache-2.0
// Copyright The dstunnel Authors

package io.dstunnel.config;

import io.vertx.core.json.JsonArray;
import java.util.EnumSet;
import java.util.Set;

/**
 * One user: a plain {@code password} or a {@code passwordHash} in PHC form ({@code $pbkdf2$...}),
 * and the {@link Role}s it holds ({@code tunnel} when none are given).
 */
public record UserConfig(String name, String password, String passwordHash, Set<Role> roles) {

  public UserConfig {
    roles = Set.copyOf(roles);
  }

  public boolean holds(Role role) {
    return roles.contains(role);
  }

  static UserConfig fromJson(String path, Object value) {
    JsonSection s = JsonSection.of(path, value, Set.of("name", "password", "passwordHash", "roles"));
    String name = s.nonEmptyString("name", null);
    if (name == null) {
      throw new ConfigException(path + ".name", "is required");
    }
    if (name.indexOf(':') >= 0) {
      throw new ConfigException(path + ".name", "must not contain ':' (HTTP Basic cannot carry it)");
    }
    String password = s.string("password", null);
    String hash = s.nonEmptyString("passwordHash", null);
    if ((password == null) == (hash == null)) {
      throw new ConfigException(path, "give exactly one of password and passwordHash");
    }
    if (hash != null && !validHash(hash)) {
      // A placeholder (k8s/users.json's "REPLACE-WITH-A-HASH") would start a proxy nobody can log in to.
      throw new ConfigException(path + ".passwordHash", "is not a password hash: give one made by "
          + "`java -jar dstunnel.jar hash-password` ($pbkdf2$it=<iterations>$<salt>$<hash>, Base64)");
    }
    return new UserConfig(name, password, hash, roles(path + ".roles", s));
  }

  private static final java.util.regex.Pattern PBKDF2 =
      java.util.regex.Pattern.compile("\\$pbkdf2\\$it=(\\d{1,9})\\$([A-Za-z0-9+/]+=*)\\$([A-Za-z0-9+/]{86})");

  /**
   * A PBKDF2 hash in PHC form that can match a password: iterations, a salt, and the hash exactly
   * as the check computes it (PBKDF2-HMAC-SHA512: 64 bytes, Base64 without padding, 86
   * characters), which is compared as a string: one padded, cut short or of another length never matches.
   */
  static boolean validHash(String hash) {
    java.util.regex.Matcher m = PBKDF2.matcher(hash);
    if (!m.matches() || Integer.parseInt(m.group(1)) < 1000) {
      return false;
    }
    try {
      return java.util.Base64.getDecoder().decode(m.group(2)).length >= 8
          && java.util.Base64.getDecoder().decode(m.group(3)).length == 64;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static Set<Role> roles(String path, JsonSection s) {
    if (!s.has("roles")) {
      return EnumSet.of(Role.TUNNEL);
    }
    JsonArray array = s.array("roles");
    if (array == null || array.isEmpty()) {
      throw new ConfigException(path, "give at least one of " + Role.keys());
    }
    Set<Role> roles = EnumSet.noneOf(Role.class);
    for (int i = 0; i < array.size(); i++) {
      Role r = array.getValue(i) instanceof String key ? Role.of(key) : null;
      if (r == null) {
        throw new ConfigException(path + "[" + i + "]", "must be one of " + Role.keys());
      }
      roles.add(r);
    }
    return roles;
  }

  @Override
  public String toString() {
    return "UserConfig[name=" + name + ", roles=" + roles + "]";
  }
}

package io.dstunnel.config;

import java.util.Set;

/** One user: a plain {@code password} or a {@code passwordHash} in PHC form ({@code $pbkdf2$...}). */
public record UserConfig(String name, String password, String passwordHash) {
  static UserConfig fromJson(String path, Object value) {
    JsonSection s = JsonSection.of(path, value, Set.of("name", "password", "passwordHash"));
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
    if (hash != null && !hash.startsWith("$")) {
      throw new ConfigException(path + ".passwordHash", "must be a PHC string such as $pbkdf2$it=...$salt$hash");
    }
    return new UserConfig(name, password, hash);
  }

  @Override
  public String toString() {
    return "UserConfig[name=" + name + "]";
  }
}

// Link Protection (seeds/001 built-in): a message with a link from a user
// without a trusted role is dropped, unless every link points at an allowed
// domain (or one of its subdomains). The JavaScript twin of
// examples/plugins/lua/link-protection/plugin.lua.
const { definePlugin, outlet, filter } = require("outlet");

// A link is a scheme-less or http(s) host name: one or more "label." followed by
// a common top-level domain and a word boundary, as the native twin's RE2
// pattern (?i)(?:https?://)?((?:[a-z0-9-]+\.)+(?:com|net|...|app))\b finds it.
// That pattern as a JavaScript regex would backtrack: a 4 KiB message of
// label characters takes it past the 50 ms filter deadline, and every timeout
// is a strike, so a chatter could get the filter auto-disabled. So the search
// is split into steps that each take one pass (a scheme, if any, is not part of
// the host, so it needs no matching).
//
// No "u" flag anywhere: with it, "i" would also fold non-ASCII look-alikes (the
// Kelvin sign, the long s) into [a-z].
const DOTTED_RUN = /[a-z0-9-]+(?:\.[a-z0-9-]+)*/gi;
// In the order the native pattern tries them ("com" before "co").
const TLD = /(?:com|net|org|io|gg|tv|ly|me|co|xyz|dev|app)\b/iy;

// Where the top-level domain of the longest host in `run` (at `start` of
// `text`) ends, or -1. A host is the most "label." units whose next label starts
// with a top-level domain followed by a word boundary, as the regex would
// backtrack to it.
const hostEnd = (text, start, run) => {
  for (let dot = run.lastIndexOf("."); dot !== -1; dot = run.lastIndexOf(".", dot - 1)) {
    TLD.lastIndex = start + dot + 1;
    if (TLD.test(text)) return TLD.lastIndex;
    if (dot === 0) break;
  }
  return -1;
};

// Every host name linked in `body`, lower-cased, in order.
const linkedHosts = (body) => {
  const hosts = [];
  DOTTED_RUN.lastIndex = 0;
  for (let match; (match = DOTTED_RUN.exec(body)) !== null; ) {
    const end = hostEnd(body, match.index, match[0]);
    if (end !== -1) {
      hosts.push(body.slice(match.index, end).toLowerCase());
      // A regex search resumes right where its last match ended, even inside
      // a label ("a.com-b.xyz" links a.com and -b.xyz).
      DOTTED_RUN.lastIndex = end;
    }
    // Otherwise no host starts anywhere in this run: a later start has fewer
    // labels to offer, so the search goes on after it.
  }
  return hosts;
};

const domainAllowed = (host, allowed) =>
  allowed.some((domain) => {
    const wanted = domain.toLowerCase();
    return host === wanted || host.endsWith(`.${wanted}`);
  });

const hasRole = ({ user }, roles) =>
  Array.isArray(user?.roles) && user.roles.some((role) => roles.includes(role));

const displayName = ({ user }) => {
  if (typeof user?.displayName === "string") return user.displayName;
  if (typeof user?.id === "string") return user.id;
  return "someone";
};

module.exports = definePlugin({
  filterChatMessage(message) {
    const config = outlet.config.get();
    if (hasRole(message, config.allowedRoles ?? [])) return filter.pass();
    const allowed = config.allowedDomains ?? [];
    if (linkedHosts(message.body).every((host) => domainAllowed(host, allowed))) {
      return filter.pass();
    }
    if (config.warn !== false) {
      // The warning is a courtesy: if chat refuses it (say, a display name too
      // long for a chat line), the link is still dropped. An error escaping here
      // would fail the filter, and a failed filter lets the message through.
      try {
        outlet.chat.send(`@${displayName(message)}, links are not allowed here`);
      } catch {
        // refused: drop the link all the same
      }
    }
    return filter.drop("link-protection: links are not allowed");
  },
});

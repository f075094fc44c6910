/**
 * A server URL, or a comma-separated list of them as `NATS_URL` takes, with the credentials in them
 * hidden, for printing: a password as `***`, and a user given alone (a NATS token) as `***`.
 */
export function redactUrls(urls: string): string {
  // A comma starts another URL only before a scheme: a MongoDB URL lists its hosts with commas,
  // and a password may hold one.
  return urls
    .split(/,(?=[a-z][a-z0-9+.-]*:\/\/)/i)
    .map(redactUrl)
    .join(",");
}

function redactUrl(text: string): string {
  // user[:password]@ between the scheme (which NATS_URL may leave out) and the host: up to the
  // URL's last `@`, as a password may hold `@` and `/` (one in a path or query hides more than the
  // credentials, never less).
  return text.replace(
    /^((?:[a-z][a-z0-9+.-]*:\/\/)?)(.*)@/i,
    (_, scheme: string, userInfo: string) => {
      const colon = userInfo.indexOf(":");
      return colon === -1 ? `${scheme}***@` : `${scheme}${userInfo.slice(0, colon)}:***@`;
    },
  );
}

// Which URLs are the voice server's: the streaming endpoints and the REST
// routes, with the same rules as the Rust protocol (src/protocol/endpoint.rs
// and src/protocol/rest.rs), so a local connection is accepted or refused
// at once, exactly as the server accepts or refuses it.

/** Paths of the streaming endpoints processed locally. */
export const ENDPOINT_PATHS = Object.freeze([
  '/speech_endpoint_detector',
  '/speech_summary_stream',
  '/voice_verify_stream',
  '/verify_stream',
  '/speech_endpoint_detector_opus',
  '/speech_summary_stream_opus',
  '/voice_verify_stream_opus',
]);

/** Paths of the REST routes answered locally (older names included). */
export const REST_PATHS = Object.freeze([
  '/voice_template_factory/create_voice_template_from_samples',
  '/voice_template_factory/create_voice_template_from_file',
  '/verify_engine/create_voice_template_from_samples',
  '/verify_engine/create_voice_template_from_file',
  '/voice_template_factory/merge_voice_templates',
  '/voice_template_matcher/match_voice_templates',
  '/speech_summary_engine/get_speech_summary_from_samples',
  '/speech_summary_engine/get_speech_summary_from_file',
  '/voice_template_factory/get_voice_quality_from_samples',
  '/voice_template_factory/get_voice_quality_from_file',
  '/core/get_build_info',
]);

/** Query options the protocol accepts and ignores. */
const IGNORED_OPTIONS = ['api_key', 'channel_type'];

/**
 * Why the server would refuse a WebSocket to `url` (a URL object), or null
 * if it accepts it.
 */
export function endpointProblem(url) {
  const path = url.pathname.replace(/\/+$/, '');
  if (!ENDPOINT_PATHS.includes(path)) return `unknown endpoint \`${url.pathname}\``;
  for (const [name, value] of new URLSearchParams(url.search)) {
    if (name === 'frames' && (value === 'new' || value === 'all')) continue;
    if (IGNORED_OPTIONS.includes(name)) continue;
    return `invalid query: unsupported option \`${name}=${value}\` (known: frames=new|all; ignored: ${IGNORED_OPTIONS.join(', ')})`;
  }
  return null;
}

/** Parses a WebSocket URL as browsers do (http(s) becomes ws(s)); throws SyntaxError. */
export function parseSocketUrl(url) {
  let parsed;
  try {
    parsed = new URL(String(url), globalThis.location?.href);
  } catch {
    throw new DOMException(`The URL '${url}' is invalid.`, 'SyntaxError');
  }
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  if (!['ws:', 'wss:', 'voiceport:'].includes(parsed.protocol)) {
    throw new DOMException(`The URL's scheme must be either 'http', 'https', 'ws', or 'wss'. '${parsed.protocol}' is not allowed.`, 'SyntaxError');
  }
  if (parsed.hash) throw new DOMException('The URL contains a fragment identifier.', 'SyntaxError');
  return parsed;
}

/** Whether `url` (a URL object) is a streaming endpoint of the server. */
export function isEndpointUrl(url) {
  return ENDPOINT_PATHS.includes(url.pathname.replace(/\/+$/, ''));
}

/** Whether `url` (a URL object) is a REST route of the server. */
export function isRestUrl(url) {
  return REST_PATHS.includes(url.pathname);
}

/**
 * Whether `url` matches `match`: a function of the URL object, a RegExp or
 * a prefix string tested on the href, or an array of those.
 */
export function matches(match, url) {
  let parsed;
  try {
    parsed = new URL(String(url), globalThis.location?.href);
  } catch {
    return false; // let the real implementation report the bad URL
  }
  if (typeof match === 'function') return Boolean(match(parsed));
  if (match instanceof RegExp) return match.test(parsed.href);
  if (typeof match === 'string') return parsed.href.startsWith(match);
  if (Array.isArray(match)) return match.some((m) => matches(m, url));
  return false;
}

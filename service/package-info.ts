/**
 * The service's name and version, taken from the root package.json. Under tsx they are read at startup; the
 * esbuild bundle inlines just these two fields. Either way `GET /` and `app_build_info` report the released
 * version rather than a copy that could drift from it.
 */
import { name, version } from "../package.json";

export const packageInfo: { readonly name: string; readonly version: string } = { name, version };

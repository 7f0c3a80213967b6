/** The console's own files (index.html, app modules, styles). */
export declare const CONSOLE_DIR: string;
/** URL prefix → directory for a static file server: the console and its vendor modules (vendor first). */
export declare function consoleMounts(prefix?: string): Record<string, string>;

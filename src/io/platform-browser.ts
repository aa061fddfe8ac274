/** The browser's decoders, installed on import: fast-png and the browser's image decoder for rasters, fflate for gzip/deflate. */
import { portablePlatform, setIoPlatform, type IoPlatform } from './platform.js';
import { decodeRasterInBrowser } from './raster-browser.js';

/** The browser platform. */
export const browserPlatform: IoPlatform = { ...portablePlatform, name: 'browser', decodeRaster: decodeRasterInBrowser };

setIoPlatform(browserPlatform);

from concert_platform.engines.moto_ext.redshift_data.responses import RedshiftDataResponse

url_bases = [r"https?://redshift-data\.(.+)\.amazonaws\.com"]

url_paths = {"{0}/$": RedshiftDataResponse.dispatch}

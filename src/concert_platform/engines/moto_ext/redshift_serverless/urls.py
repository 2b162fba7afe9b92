from concert_platform.engines.moto_ext.redshift_serverless.responses import RedshiftServerlessResponse

url_bases = [r"https?://redshift-serverless\.(.+)\.amazonaws\.com"]

url_paths = {"{0}/$": RedshiftServerlessResponse.dispatch}

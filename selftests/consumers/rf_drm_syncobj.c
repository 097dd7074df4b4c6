// SPDX-License-Identifier: GPL-2.0
/*
 * rf_drm_syncobj: a DRM device with syncobjs and nothing else.
 *
 * The consumers suite imports fences of a provider into DRM syncobjs,
 * binary and timeline, unloads the provider, then waits on the syncobjs
 * and exports them back. That needs a DRM driver with DRIVER_SYNCOBJ
 * that runs in the test VM without hardware; vgem, the usual virtual
 * device of such tests, has no DRIVER_SYNCOBJ in Linux 7.3. This one
 * registers a DRM device on a faux device and offers only the core's
 * syncobj ioctls.
 */

#include <linux/device/faux.h>
#include <linux/module.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_ioctl.h>

struct rf_drm {
	struct drm_device drm;
};

static const struct file_operations rf_drm_fops = {
	.owner = THIS_MODULE,
	.open = drm_open,
	.release = drm_release,
	.unlocked_ioctl = drm_ioctl,
	.compat_ioctl = drm_compat_ioctl,
	.poll = drm_poll,
	.read = drm_read,
	.llseek = noop_llseek,
	.fop_flags = FOP_UNSIGNED_OFFSET,
};

static const struct drm_driver rf_drm_driver = {
	.driver_features = DRIVER_SYNCOBJ | DRIVER_SYNCOBJ_TIMELINE,
	.fops = &rf_drm_fops,
	.name = "rf_drm_syncobj",
	.desc = "DRM syncobjs only, for the rust-fence tests",
	.major = 1,
};

static struct faux_device *rf_faux;
static struct rf_drm *rf_drm;

static int __init rf_drm_syncobj_init(void)
{
	int ret;

	rf_faux = faux_device_create("rf_drm_syncobj", NULL, NULL);
	if (!rf_faux)
		return -ENODEV;
	/* Freed by devres when the faux device goes. */
	rf_drm = devm_drm_dev_alloc(&rf_faux->dev, &rf_drm_driver, struct rf_drm, drm);
	if (IS_ERR(rf_drm)) {
		ret = PTR_ERR(rf_drm);
		goto err_faux;
	}
	ret = drm_dev_register(&rf_drm->drm, 0);
	if (ret)
		goto err_faux;
	return 0;

err_faux:
	faux_device_destroy(rf_faux);
	return ret;
}

static void __exit rf_drm_syncobj_exit(void)
{
	drm_dev_unregister(&rf_drm->drm);
	faux_device_destroy(rf_faux);
}

module_init(rf_drm_syncobj_init);
module_exit(rf_drm_syncobj_exit);
MODULE_DESCRIPTION("DRM device with syncobjs only (rust-fence test)");
MODULE_LICENSE("GPL");

//! Images: the list, with ids shortened and untagged `<none>` names dropped
//! as the v1 contract does. Images are the host's, not any container's: the
//! container scope does not filter them.

use super::{Service, short_image_id};
use crate::contract::{ImageList, ImageSummary};
use crate::docker::models;
use crate::error::Error;
use crate::policy::{Caller, Op};

impl Service {
    pub async fn list_images(&self, caller: &Caller, op: Op) -> Result<ImageList, Error> {
        self.permit(caller, op)?;
        let raw: Vec<models::ListedImage> = self.docker.images().await?;
        let images: Vec<ImageSummary> = raw
            .into_iter()
            .map(|i| ImageSummary {
                id: short_image_id(&i.id),
                tags: i
                    .repo_tags
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|t| t != "<none>:<none>")
                    .collect(),
                size: i.size,
                created: i.created,
            })
            .collect();
        Ok(ImageList {
            total: images.len(),
            images,
        })
    }
}

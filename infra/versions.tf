terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "= 6.31.0"
    }
  }
}

# TODO: commit .terraform.lock.hcl. It must come from `terraform init` on a
# machine that can download the provider, with
# `terraform providers lock -platform=linux_amd64 -platform=darwin_arm64`.
provider "aws" {
  region = local.region

  default_tags {
    tags = local.tags
  }
}

#!/bin/sh
# Build the Lambda zips, apply infra/ to LocalStack with tflocal and print the
# outputs. State goes to the "localstack" workspace, apart from an AWS
# deployment's default workspace in the same directory.
set -eu

cd /workspace
echo "==> Packaging the functions"
python scripts/package.py

cd infra
echo "==> tflocal init"
tflocal init -input=false
terraform workspace select -or-create=true localstack

echo "==> tflocal apply"
tflocal apply -input=false -auto-approve -var-file=env/localstack.tfvars

tflocal output -json > ../build/localstack-outputs.json
echo "==> Outputs (also in build/localstack-outputs.json)"
cat ../build/localstack-outputs.json
